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
from .conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,  # noqa: E402,F401
                   ConvTranspose3d)
from .pooling import (MaxPool1d, MaxPool2d, MaxPool3d, MaxUnpool1d, MaxUnpool2d,  # noqa: E402,F401
                      MaxUnpool3d, AvgPool1d, AvgPool2d, AvgPool3d, LPPool1d, LPPool2d, LPPool3d,
                      AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d, AdaptiveAvgPool1d,
                      AdaptiveAvgPool2d, AdaptiveAvgPool3d)
from .batchnorm import (BatchNorm1d, BatchNorm2d, BatchNorm3d)  # noqa: E402,F401
from .instancenorm import (InstanceNorm1d, InstanceNorm2d, InstanceNorm3d)  # noqa: E402,F401
from .normalization import (LayerNorm, GroupNorm, RMSNorm, LocalResponseNorm)  # noqa: E402,F401
from .sparse import (Embedding, EmbeddingBag)  # noqa: E402,F401
from .padding import (ZeroPad1d, ZeroPad2d, ZeroPad3d, ConstantPad1d,  # noqa: E402,F401
                      ConstantPad2d, ConstantPad3d, ReflectionPad1d, ReflectionPad2d,
                      ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d,
                      CircularPad1d, CircularPad2d, CircularPad3d)
from .upsampling import (Upsample, UpsamplingNearest2d, UpsamplingBilinear2d)  # noqa: E402,F401
from .pixelshuffle import (PixelShuffle, PixelUnshuffle)  # noqa: E402,F401
from .fold import (Fold, Unfold)  # noqa: E402,F401
# --- lazy modules (issue 5) ---
from .lazy import (LazyModuleMixin, LazyLinear, LazyConv1d, LazyConv2d,  # noqa: E402,F401
                   LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d,
                   LazyConvTranspose3d, LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d,
                   LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d)
# --- recurrent layers (issue 14) ---
from .rnn import (RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell,  # noqa: E402,F401
                  GRUCell)
from .rnn import (LazyRNN, LazyLSTM, LazyGRU)  # noqa: E402,F401
# --- attention and transformer (issue 14) ---
from .linear import NonDynamicallyQuantizableLinear  # noqa: E402,F401
from .activation import MultiheadAttention  # noqa: E402,F401
from .transformer import (Transformer, TransformerEncoder, TransformerDecoder,  # noqa: E402,F401
                          TransformerEncoderLayer, TransformerDecoderLayer)
