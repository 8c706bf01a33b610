"""lamina.nn: modules, parameters, initializers and functional ops (torch.nn's layout)."""

from __future__ import annotations

# --- parameter & module system (issue 3: module system) ---
from .parameter import Buffer, Parameter  # noqa: E402,F401
from .module import Module  # noqa: E402,F401
from .containers import (ModuleDict, ModuleList, ParameterDict, ParameterList,  # noqa: E402,F401
                         Sequential)
# --- layers: linear, activation, dropout, loss, flatten (issue 3: layers) ---
from .modules.linear import (Identity, Linear, Bilinear)  # noqa: E402,F401
from .modules.activation import (Threshold, ReLU, Hardtanh, ReLU6, Sigmoid,  # noqa: E402,F401
                                 Hardsigmoid, Tanh, SiLU, Mish, Hardswish, ELU,
                                 CELU, SELU, GLU, GELU, Hardshrink, LeakyReLU,
                                 LogSigmoid, Softplus, Softshrink, PReLU,
                                 Softsign, Tanhshrink, Softmin, Softmax,
                                 Softmax2d, LogSoftmax)
from .modules.dropout import (Dropout, Dropout1d, Dropout2d, Dropout3d,  # noqa: E402,F401
                              AlphaDropout, FeatureAlphaDropout)
from .modules.loss import (L1Loss, MSELoss, SmoothL1Loss, HuberLoss,  # noqa: E402,F401
                           CrossEntropyLoss, NLLLoss, BCELoss,
                           BCEWithLogitsLoss, KLDivLoss, CosineEmbeddingLoss,
                           MarginRankingLoss, GaussianNLLLoss, PoissonNLLLoss,
                           SoftMarginLoss, MultiLabelSoftMarginLoss,
                           TripletMarginLoss, HingeEmbeddingLoss,
                           MultiMarginLoss)
from .modules.flatten import (Flatten, Unflatten)  # noqa: E402,F401
# --- conv, pooling, normalization, embedding, padding, upsampling (issue 6) ---
# --- lazy modules (issue 5) ---
from . import functional, init  # noqa: E402,F401
from . import modules  # noqa: E402,F401
from . import utils  # noqa: E402,F401
