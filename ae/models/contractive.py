"""Contractive autoencoder (Rifai et al., ICML 2011): penalise the squared Frobenius norm of the encoder's
Jacobian dz/dx, so the code changes little when the input moves off the data manifold."""

from dataclasses import dataclass

import torch

from ae.knobs import knob
from ae.models.base import Autoencoder, Output
from ae.registry import register


@dataclass
class ContractiveParams:
    weight: float = knob(1e-2, min=0.0, max=100.0, fmt="%.4f", label="Contractive weight",
                         help="weight of the squared Frobenius norm of the encoder's Jacobian")


def jacobian_frobenius(z: torch.Tensor, x: torch.Tensor, create_graph: bool) -> torch.Tensor:
    """Mean over the batch of ||dz/dx||_F^2, exact: one vector-Jacobian product per latent unit.

    Samples do not interact in the encoder, so the gradient of sum_n z[n, i] w.r.t. x gives row i of each
    sample's Jacobian at once.
    """
    total = z.new_zeros(())
    for i in range(z.shape[1]):
        (g,) = torch.autograd.grad(z[:, i].sum(), x, create_graph=create_graph, retain_graph=True)
        total = total + (g**2).sum()
    return total / z.shape[0]


@register("contractive")
class Contractive(Autoencoder):
    title = "contractive AE"
    Params = ContractiveParams

    def forward(self, x: torch.Tensor) -> Output:
        with torch.enable_grad():  # the penalty needs dz/dx even during no-grad validation
            x_in = x.detach().requires_grad_(True)
            z = self.encode(x_in)
            reg = self.params.weight * jacobian_frobenius(z, x_in, create_graph=self.training)
        if not torch.is_grad_enabled():
            z, reg = z.detach(), reg.detach()
        return self.output(x, z, reg)
