"""One file per layer family (torch.nn.modules' layout)."""

from __future__ import annotations

# --- module system: Module, containers (issue 3) ---
from ..module import Module  # noqa: E402,F401
from ..containers import (ModuleDict, ModuleList, ParameterDict, ParameterList,  # noqa: E402,F401
                          Sequential)
# --- layers: linear, activation, dropout, loss, flatten (issue 3) ---
from .linear import (Identity, Linear, Bilinear)  # noqa: E402,F401
from .activation import (Threshold, ReLU, Hardtanh, ReLU6, Sigmoid, Hardsigmoid,  # noqa: E402,F401
                         Tanh, SiLU, Mish, Hardswish, ELU, CELU, SELU, GLU,
                         GELU, Hardshrink, LeakyReLU, LogSigmoid, Softplus,
                         Softshrink, PReLU, Softsign, Tanhshrink, Softmin,
                         Softmax, Softmax2d, LogSoftmax)
from .dropout import (Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout,  # noqa: E402,F401
                      FeatureAlphaDropout)
from .loss import (L1Loss, MSELoss, SmoothL1Loss, HuberLoss, CrossEntropyLoss,  # noqa: E402,F401
                   NLLLoss, BCELoss, BCEWithLogitsLoss, KLDivLoss,
                   CosineEmbeddingLoss, MarginRankingLoss, GaussianNLLLoss,
                   PoissonNLLLoss, SoftMarginLoss, MultiLabelSoftMarginLoss,
                   TripletMarginLoss, HingeEmbeddingLoss, MultiMarginLoss)
from .flatten import (Flatten, Unflatten)  # noqa: E402,F401
# --- conv, pooling, normalization, embedding, padding, upsampling (issue 6) ---
# --- lazy modules (issue 5) ---
