"""The networks, built with Keras. TensorFlow is imported inside each builder.

- ich_unet25d: ours. A compact U-Net on 2.5D input (slice and neighbours),
  batch-normalised residual blocks, few channels, so it runs fast on a CPU.
- reference_unet: the reference notebook's 4-level U-Net baseline.
- two_branch_net: the reference notebook's two-branch baseline.
"""

from __future__ import annotations


def _keras():
    import keras

    return keras


def _res_block(x, filters: int):
    layers = _keras().layers
    shortcut = x if x.shape[-1] == filters else layers.Conv2D(filters, 1, use_bias=False)(x)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    return layers.Activation("relu")(layers.Add()([y, shortcut]))


def ich_unet25d(channels: int = 4, widths=(16, 24, 40, 64, 96)):
    """Our network: input (h, w, channels) in [0, 1], output hemorrhage probability (h, w, 1)."""
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input((None, None, channels))
    x = inputs
    skips = []
    for filters in widths[:-1]:
        x = _res_block(x, filters)
        skips.append(x)
        x = layers.MaxPooling2D()(x)
    x = _res_block(x, widths[-1])
    for filters, skip in zip(reversed(widths[:-1]), reversed(skips)):
        x = layers.UpSampling2D(interpolation="bilinear")(x)
        x = layers.Concatenate()([x, skip])
        x = _res_block(x, filters)
    outputs = layers.Conv2D(1, 1, activation="sigmoid", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="ich_unet25d")


def reference_unet(size: int = 160, channels: int = 1, base: int = 32):
    """The reference notebook's 4-level U-Net (two 3x3 convs per level, transposed-conv up)."""
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input((size, size, channels))
    x = inputs
    skips = []
    for level in range(4):
        x = layers.Conv2D(base * 2**level, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(base * 2**level, 3, padding="same", activation="relu")(x)
        skips.append(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(base * 16, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(base * 16, 3, padding="same", activation="relu")(x)
    for level in reversed(range(4)):
        x = layers.Conv2DTranspose(base * 2**level, 2, strides=2, padding="same")(x)
        x = layers.Concatenate()([x, skips[level]])
        x = layers.Conv2D(base * 2**level, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(base * 2**level, 3, padding="same", activation="relu")(x)
    outputs = layers.Conv2D(1, 1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="reference_unet")


def two_branch_net(size: int = 160, channels: int = 1, base: int = 32):
    """The notebook's two-branch network: two conv/pool branches, concatenated, then upsampled."""
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input((size, size, channels))
    branches = []
    for kernel in (3, 5):
        b = inputs
        for level in range(3):
            b = layers.Conv2D(base * 2**level, kernel, padding="same", activation="relu")(b)
            b = layers.MaxPooling2D()(b)
        branches.append(b)
    x = layers.Concatenate()(branches)
    for level in reversed(range(3)):
        x = layers.Conv2DTranspose(base * 2**level, 3, strides=2, padding="same", activation="relu")(x)
    outputs = layers.Conv2D(1, 1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="two_branch_net")


ARCHITECTURES = {
    "ich_unet25d": ich_unet25d,
    "reference_unet": reference_unet,
    "two_branch_net": two_branch_net,
}
