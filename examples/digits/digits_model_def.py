"""The digits example's CNN class (examples/README.md): 1x8x8 grayscale in, 10 logits out.
digits_cnn.pth is its state_dict; load it with DigitsCNN().load_state_dict(torch.load(...))."""
import torch.nn as nn


class DigitsCNN(nn.Module):
    """conv3x3(1->8) ReLU conv3x3(8->16) ReLU maxpool2 -> 16x4x4 -> fc(256->64) ReLU fc(64->10)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.classifier(self.features(x))
