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
from .modules.conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d,  # noqa: E402,F401
                           ConvTranspose2d, ConvTranspose3d)
from .modules.pooling import (MaxPool1d, MaxPool2d, MaxPool3d, MaxUnpool1d,  # noqa: E402,F401
                              MaxUnpool2d, MaxUnpool3d, AvgPool1d, AvgPool2d, AvgPool3d, LPPool1d,
                              LPPool2d, LPPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d,
                              AdaptiveMaxPool3d, AdaptiveAvgPool1d, AdaptiveAvgPool2d,
                              AdaptiveAvgPool3d)
from .modules.batchnorm import (BatchNorm1d, BatchNorm2d, BatchNorm3d)  # noqa: E402,F401
from .modules.instancenorm import (InstanceNorm1d, InstanceNorm2d,  # noqa: E402,F401
                                   InstanceNorm3d)
from .modules.normalization import (LayerNorm, GroupNorm, RMSNorm,  # noqa: E402,F401
                                    LocalResponseNorm)
from .modules.sparse import (Embedding, EmbeddingBag)  # noqa: E402,F401
from .modules.padding import (ZeroPad1d, ZeroPad2d, ZeroPad3d, ConstantPad1d,  # noqa: E402,F401
                              ConstantPad2d, ConstantPad3d, ReflectionPad1d, ReflectionPad2d,
                              ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d,
                              CircularPad1d, CircularPad2d, CircularPad3d)
from .modules.upsampling import (Upsample, UpsamplingNearest2d,  # noqa: E402,F401
                                 UpsamplingBilinear2d)
from .modules.pixelshuffle import (PixelShuffle, PixelUnshuffle)  # noqa: E402,F401
from .modules.fold import (Fold, Unfold)  # noqa: E402,F401
# --- lazy modules (issue 5) ---
from .parameter import UninitializedBuffer, UninitializedParameter  # noqa: E402,F401
from .lazy import LazyModuleMixin  # noqa: E402,F401
from .modules.lazy import (LazyLinear, LazyConv1d, LazyConv2d, LazyConv3d,  # noqa: E402,F401
                           LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d,
                           LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d,
                           LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d)
from . import functional, init  # noqa: E402,F401
from . import modules  # noqa: E402,F401
from . import utils  # noqa: E402,F401
# --- data parallelism (issue 15) ---
from . import parallel  # noqa: E402,F401
from .parallel import DataParallel  # noqa: E402,F401
# --- recurrent layers (issue 14) ---
from .modules.rnn import (RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell,  # noqa: E402,F401
                          LSTMCell, GRUCell)
from .modules.rnn import (LazyRNN, LazyLSTM, LazyGRU)  # noqa: E402,F401
# --- attention and transformer (issue 14) ---
from .modules.activation import MultiheadAttention  # noqa: E402,F401
from .modules.transformer import (Transformer, TransformerEncoder,  # noqa: E402,F401
                                  TransformerDecoder, TransformerEncoderLayer,
                                  TransformerDecoderLayer)
