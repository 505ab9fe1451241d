"""The example MLP's class, importable so that examples/mlp/mlp_model.pt (a whole-model
pickle) can be loaded back in Python: put this directory on sys.path, then torch.load().
The pickle names the class as `mlp_model_def.MLP`."""
import torch.nn as nn


class MLP(nn.Module):
    """The classic tutorial MLP: 10 inputs -> 32 hidden (ReLU) -> 1 output."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x)
