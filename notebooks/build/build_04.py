"""Generate notebooks/04_convolutional_networks.ipynb (executed, outputs stored).

Run from the repository root with the project importable (`pip install -e .`, or
PYTHONPATH pointing at the repository):

    python notebooks/build/build_04.py

The cells are assembled with nbformat, executed in a fresh kernel with cwd = notebooks/
(as the test suite does), and saved with their outputs.
"""

from __future__ import annotations

from _common import build, code, md

CELLS = [
    # ------------------------------------------------------------------------------------------
    md(r"""
    # Convolutional networks

    A convolution layer slides a small filter over an image. For an input with $C_{in}$
    channels, output channel $o$ at position $(i, j)$ is

    $$y_{o,i,j} = b_o + \sum_{c=1}^{C_{in}} \sum_{u=0}^{k_H-1} \sum_{v=0}^{k_W-1}
    w_{o,c,u,v}\; x^{\text{pad}}_{c,\; iS + uD,\; jS + vD},$$

    with stride $S$, dilation $D$ and $x^{\text{pad}}$ the input with $P$ rows and columns of
    zeros around it. (This is a cross-correlation, the kernel is not flipped, as in PyTorch
    and most deep-learning libraries.) The same few weights are used at every position: far
    fewer parameters than a fully connected layer, local connections, and a feature that is
    found wherever it appears.

    This notebook computes a convolution by hand and checks it against `ag.conv2d` and
    against `ag.unfold` + a matrix product; works the course's examples (padding, the
    feature-map size formula, a multi-channel filter, the three poolings); trains a LeNet-style
    CNN on the 8x8 digits and looks inside it (filters, feature maps, batch-norm statistics);
    shows the image augmentations on a photo; compares LeNet with a small ResNet; and measures
    what a residual connection does to the gradients of a deep network. Seeds are fixed, so a
    rerun gives the same numbers (except the timings).

    Layouts are PyTorch's: images $(N, C, H, W)$, weights $(C_{out}, C_{in}, k_H, k_W)$.
    """),
    code(r"""
    import os

    # One BLAS thread (set before numpy is imported): the matrices here are small, a second
    # thread gains nothing, and on a busy machine it made training several times slower.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    %matplotlib inline
    import time

    import matplotlib.pyplot as plt
    import numpy as np
    from IPython.display import Markdown, display
    from matplotlib.patches import Rectangle

    import autograd_core as ag
    import nn

    np.set_printoptions(precision=4, suppress=True)
    plt.rcParams.update({"figure.dpi": 80})


    def show_numbers(ax, a, title, cmap="Greys", fmt="{:g}", boxes=(), vmin=None, vmax=None):
        # a small matrix as a heat map with its numbers written in; boxes are
        # (row, col, height, width, colour) rectangles drawn around cells
        a = np.asarray(a, dtype=float)
        if cmap == "Greys" and vmax is None:  # light shades, so the numbers and boxes show
            vmax = a.max() + 0.7 * (a.max() - a.min()) + 1e-12
        im = ax.imshow(a, cmap=cmap, vmin=vmin, vmax=vmax)
        for (i, j), v in np.ndenumerate(a):
            r, g, b, _ = im.cmap(im.norm(v))
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=9,
                    color="white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black")
        for r, c, h, w, colour in boxes:
            ax.add_patch(Rectangle((c - 0.44, r - 0.44), w - 0.12, h - 0.12, fill=False,
                                   ec=colour, lw=2.5))
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 1. A convolution by hand, by `conv2d`, and by `unfold` + matrix product

    The definition, written as four loops over one 5x5 single-channel image and a 3x3 kernel
    (the Sobel filter, which responds to vertical edges: bright on the left, dark on the
    right gives a positive output):
    """),
    code(r"""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 10, size=(5, 5)).astype(float)  # a 5x5 image, one channel
    sobel = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])


    def conv2d_by_hand(x, w, stride=1, padding=0, dilation=1):
        # y[i, j] = sum over u, v of w[u, v] * x_pad[i*stride + u*dilation, j*stride + v*dilation]
        x = np.pad(x, padding)
        kh, kw = w.shape
        oh = (x.shape[0] - dilation * (kh - 1) - 1) // stride + 1
        ow = (x.shape[1] - dilation * (kw - 1) - 1) // stride + 1
        y = np.zeros((oh, ow))
        for i in range(oh):
            for j in range(ow):
                for u in range(kh):
                    for v in range(kw):
                        y[i, j] += w[u, v] * x[i * stride + u * dilation, j * stride + v * dilation]
        return y


    by_hand = conv2d_by_hand(x, sobel)
    # conv2d wants (N, C_in, H, W) and (C_out, C_in, kH, kW): add the two leading axes
    by_conv2d = ag.conv2d(x[None, None], sobel[None, None]).numpy()[0, 0]
    # unfold (im2col): every 3x3 window becomes one column of 9 numbers
    columns = ag.unfold(x[None, None], kernel_size=3)
    by_unfold = (ag.Tensor(sobel).reshape(1, 9) @ columns).reshape(3, 3).numpy()
    print("input x:\n", x)
    print("by hand:\n", by_hand)
    print("unfold(x) has shape", columns.shape, "= (N, C*kH*kW, number of windows)")
    print("max |conv2d - by hand| =", np.abs(by_conv2d - by_hand).max(),
          "  max |unfold @ w - by hand| =", np.abs(by_unfold - by_hand).max())
    """),
    code(r"""
    fig, axes = plt.subplots(1, 4, figsize=(14, 4.4), layout="constrained",
                             gridspec_kw={"width_ratios": [5, 3, 3, 9]})
    red, blue = (0, 0, 3, 3, "tab:red"), (1, 2, 3, 3, "tab:blue")
    show_numbers(axes[0], x, "input x (5x5): two of its windows", boxes=[red, blue])
    show_numbers(axes[1], sobel, "kernel w (Sobel)", cmap="RdBu_r", vmin=-3, vmax=3)
    show_numbers(axes[2], by_hand, "output (3x3)", cmap="RdBu_r",
                 vmin=-40, vmax=40, boxes=[(0, 0, 1, 1, "tab:red"), (1, 2, 1, 1, "tab:blue")])
    show_numbers(axes[3], columns.numpy()[0], "unfold(x): one column per window",
                 boxes=[(0, 0, 9, 1, "tab:red"), (0, 5, 9, 1, "tab:blue")])
    axes[3].set(xlabel="window (row-major: column 3i + j is output (i, j))",
                ylabel="position in the window")
    plt.show()
    """),
    md(r"""
    **Reading.** The three computations agree exactly (the differences printed above are 0:
    integer data, no rounding). Follow the red box: the top-left 3x3 window of $x$ is
    column 0 of the unfolded matrix, and its dot product with the flattened kernel is
    output $(0, 0)$; the blue window (rows 1-3, columns 2-4) is column $3 \cdot 1 + 2 = 5$
    and gives output $(1, 2)$. Windows overlap, so each pixel appears in several columns.
    Because all windows sit side by side as columns, the whole convolution is one matrix
    product, (C_out, C_in kH kW) @ (C_in kH kW, windows); `ag.conv2d` is built on this
    idea (with the batch folded into the same product), which is why it runs at the speed of
    a matrix multiplication rather than of Python loops.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 2. The course's example: a 3x3 input, padding 1, a 2x2 kernel, stride 1

    $$O_H = \frac{H + 2P - F_H}{S} + 1 = \frac{3 + 2 - 2}{1} + 1 = 4,$$

    so the output is 4x4, larger than the input: the padding lets the kernel hang over the
    border. With the input $1, \dots, 9$ and the kernel $\begin{bmatrix}1&2\\3&4\end{bmatrix}$:
    """),
    code(r"""
    image = np.arange(1.0, 10.0).reshape(3, 3)
    kernel = np.array([[1.0, 2.0], [3.0, 4.0]])
    course_out = ag.conv2d(image[None, None], kernel[None, None], padding=1, stride=1)
    print("output shape:", course_out.shape)
    print(course_out.numpy()[0, 0])
    print("by hand, same numbers:", np.array_equal(conv2d_by_hand(image, kernel, padding=1),
                                                    course_out.numpy()[0, 0]))

    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), layout="constrained",
                             gridspec_kw={"width_ratios": [5, 2, 4]})
    show_numbers(axes[0], np.pad(image, 1), "input padded with P = 1 (zeros around)",
                 boxes=[(0, 0, 2, 2, "tab:red"), (1, 1, 2, 2, "tab:blue")])
    axes[0].add_patch(Rectangle((0.5, 0.5), 3, 3, fill=False, ec="k", ls="--", lw=1.5))
    show_numbers(axes[1], kernel, "kernel (2x2)")
    show_numbers(axes[2], course_out.numpy()[0, 0], "output (4x4)",
                 boxes=[(0, 0, 1, 1, "tab:red"), (1, 1, 1, 1, "tab:blue")])
    plt.show()
    """),
    md(r"""
    **Reading.** The dashed square is the original 3x3 image. The red window covers three
    zeros and the pixel 1, which meets the kernel's entry 4: output$(0,0) = 4 \cdot 1 = 4$.
    The blue window lies inside the image:
    output$(1,1) = 1\cdot1 + 2\cdot2 + 3\cdot4 + 4\cdot5 = 37$. The border outputs are small
    because part of their window is padding.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 3. The feature-map size formula

    Along each axis, with kernel size $k$, stride $s$, padding $p$ and dilation $d$ (a
    dilated kernel reads every $d$-th pixel, so it spans $d(k-1)+1$ pixels):

    $$\text{out} = \left\lfloor \frac{\text{in} + 2p - d(k - 1) - 1}{s} \right\rfloor + 1,$$

    which is the course's $(H + 2P - F_H)/S + 1$ when $d = 1$ and the division is exact. The
    table computes it for several cases and runs `conv2d` on an input of that size to read
    the actual output size. `padding="same"` asks for the input's size (stride 1 only).
    """),
    code(r"""
    def formula(size, k, s, p, d):
        return (size + 2 * p - d * (k - 1) - 1) // s + 1


    cases = [  # (input size, kernel, stride, padding, dilation, comment)
        (3, 2, 1, 1, 1, "the course's example"),
        (28, 5, 1, 0, 1, "LeNet's first layer on MNIST"),
        (32, 3, 1, 1, 1, "VGG's 3x3 convolutions keep the size"),
        (7, 3, 2, 0, 1, "stride 2 roughly halves"),
        (8, 3, 2, 1, 1, "(8 + 2 - 3)/2 = 3.5 is floored"),
        (9, 3, 1, 0, 2, "dilation 2: the 3x3 kernel spans 5x5"),
        (224, 11, 4, 2, 1, "AlexNet's first layer: 54.25 floored"),
        (8, 8, 1, 0, 1, "kernel as large as the input: one output"),
        (8, 3, 1, "same", 1, 'padding="same" (here p = 1)'),
    ]
    rows = ["| in | kernel | stride | padding | dilation | formula | by formula | conv2d output "
            "| |", "|" + " --- |" * 9]
    for size, k, s, p, d, comment in cases:
        out = ag.conv2d(np.zeros((1, 1, size, size)), np.zeros((1, 1, k, k)),
                        stride=s, padding=p, dilation=d)
        p_num = (d * (k - 1)) // 2 if p == "same" else p
        value = formula(size, k, s, p_num, d)
        text = f"⌊({size} + 2·{p_num} − {d}·{k - 1} − 1)/{s}⌋ + 1"
        rows.append(f"| {size} | {k} | {s} | {p} | {d} | {text} | {value} | "
                    f"{out.shape[2]}x{out.shape[3]} | {comment} |")
    display(Markdown("\n".join(rows)))
    """),
    md(r"""
    Every row agrees. When the kernel does not fit, `conv2d` says so with the formula filled
    in, instead of returning an empty array:
    """),
    code(r"""
    try:
        ag.conv2d(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 5, 5)))
    except ValueError as error:
        print(error)
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 4. Multi-channel convolution: the 3-D picture

    A colour image has three channels, $(3, H, W)$. A filter then has three channels too:
    it is a $3 \times k \times k$ block that slides over the $3 \times H \times W$ block of
    the image, and at each position multiplies all $3k^2$ pairs and adds them up. So one
    filter gives **one** output channel, the sum over the input channels of a 2-D
    convolution of each channel with its own slice of the filter, plus one bias:

    $$y_o = b_o + \sum_c x_c \star w_{o,c}.$$

    The photo bundled with `nn` (Chelsea the cat, CC0, 100x100) and a filter with three
    different slices chosen to be told apart: vertical edges in red, horizontal edges in
    green, a 3x3 blur in blue.
    """),
    code(r"""
    photo = nn.datasets.load_sample_photo()  # (3, 100, 100), RGB in [0, 1]
    filt = np.stack([sobel, sobel.T, np.full((3, 3), 1 / 9)])  # (C_in = 3, 3, 3)
    bias = 0.1
    out = ag.conv2d(photo[None], filt[None], bias=np.array([bias])).numpy()[0, 0]  # (98, 98)
    per_channel = [ag.conv2d(photo[None, c : c + 1], filt[None, c : c + 1]).numpy()[0, 0]
                   for c in range(3)]
    print("conv2d output shape:", out.shape)
    print("max |conv2d - (sum of the three 2-D convolutions + bias)| =",
          np.abs(out - (sum(per_channel) + bias)).max())

    fig, axes = plt.subplots(3, 4, figsize=(13, 9.5), layout="constrained")
    names = ["red", "green", "blue"]
    for c in range(3):
        axes[c, 0].imshow(photo[c], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes[c, 0].set_title(f"input channel {c} ({names[c]})", fontsize=10)
        show_numbers(axes[c, 1], filt[c], f"filter slice w[0, {c}]", cmap="RdBu_r",
                     fmt="{:.2g}", vmin=-2, vmax=2)
        lim = np.abs(per_channel[c]).max()
        axes[c, 2].imshow(per_channel[c], cmap="RdBu_r", vmin=-lim, vmax=lim,
                          interpolation="nearest")
        axes[c, 2].set_title(f"channel {c} convolved with its slice", fontsize=10)
    axes[0, 3].imshow(photo.transpose(1, 2, 0), interpolation="nearest")
    axes[0, 3].set_title("the photo (all three channels)", fontsize=10)
    lim = np.abs(out).max()
    axes[1, 3].imshow(out, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    axes[1, 3].set_title("output: the sum of the 3 maps on its left + bias", fontsize=10)
    axes[2, 3].axis("off")
    axes[2, 3].text(0, 0.5, "$y = b + \\sum_c x_c \\star w_{0,c}$\n\n"
                    "one filter (3, 3, 3)\n→ one output channel (98, 98)\n\n"
                    "red-blue maps: red > 0 > blue", fontsize=12, va="center")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("one 3-channel filter: each input channel meets its own slice, the results add")
    plt.show()
    """),
    md(r"""
    **Reading.** The three channels of the photo look alike (brightness dominates every
    colour channel), but each meets a different slice. The red channel's result lights up at
    vertical edges: the sides of the eyes and of the nose, the stripes on the forehead. The
    green channel's lights up at horizontal edges: the upper and lower rims of the eyes, the
    mouth. The blue channel, blurred, becomes a smooth positive copy of the image. The output
    channel is their sum plus the bias, exactly (the difference printed above is at round-off
    level): a blurred copy of the photo with the edges of both directions on top.

    A layer with $C_{out}$ filters stacks $C_{out}$ such output channels: its weight is
    $(C_{out}, C_{in}, k_H, k_W)$ and it has $C_{out}(C_{in} k_H k_W + 1)$ parameters,
    however large the image. A fully connected layer producing the same output from the same
    input needs one weight per (input value, output value) pair:
    """),
    code(r"""
    layer = nn.Conv2d(3, 16, kernel_size=3, padding=1)
    y = layer(photo[None])
    n_conv = sum(p.numel() for p in layer.parameters())
    n_dense = photo.size * y.numel() + y.numel()
    print(f"Conv2d(3, 16, 3, padding=1): weight {layer.weight.shape}, bias {layer.bias.shape}, "
          f"output {y.shape}")
    print(f"parameters: conv {n_conv:,} = 16 * (3*3*3 + 1); "
          f"a dense layer {photo.size:,} -> {y.numel():,} values would need {n_dense:,}")
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 5. Pooling: max, average and global average

    Pooling summarizes each window of a feature map by one number, channel by channel: the
    height and width shrink, the number of channels stays. The course's 4x4 map, pooled with
    a 2x2 window and stride 2 (output $(4 - 2)/2 + 1 = 2$ per axis); global average pooling
    (GAP) averages the whole map to one number per channel.
    """),
    code(r"""
    fmap = np.array([[1.0, 2, 3, 3], [0, 1, 1, 5], [3, 0, 1, 0], [1, 4, 1, 2]])
    max_pooled = ag.max_pool2d(fmap[None], kernel_size=2, stride=2).numpy()[0]
    avg_pooled = ag.avg_pool2d(fmap[None], kernel_size=2, stride=2).numpy()[0]
    gap = ag.adaptive_avg_pool2d(fmap[None], 1).numpy()[0]
    print("max pooling:\n", max_pooled, "\naverage pooling:\n", avg_pooled,
          "\nglobal average pooling:", gap.ravel())

    windows = [(0, 0, 2, 2, "tab:red"), (0, 2, 2, 2, "tab:blue"),
               (2, 0, 2, 2, "tab:green"), (2, 2, 2, 2, "tab:purple")]
    cells = [(r // 2, c // 2, 1, 1, colour) for r, c, _, _, colour in windows]
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.5), layout="constrained",
                             gridspec_kw={"width_ratios": [4, 2, 2, 1]})
    show_numbers(axes[0], fmap, "feature map (4x4), its four 2x2 windows", boxes=windows)
    show_numbers(axes[1], max_pooled, "max pooling", boxes=cells, vmin=0, vmax=8.5)
    show_numbers(axes[2], avg_pooled, "average pooling", boxes=cells, vmin=0, vmax=8.5)
    show_numbers(axes[3], gap, "GAP", fmt="{:.2f}", vmin=0, vmax=8.5)
    plt.show()

    batch = np.random.default_rng(0).standard_normal((8, 16, 8, 8))  # 8 maps of 16 channels
    print("shapes: input", batch.shape, "-> max pool 2x2", ag.max_pool2d(batch, 2).shape,
          "-> GAP", ag.adaptive_avg_pool2d(batch, 1).shape)
    """),
    md(r"""
    **Reading.** The course's numbers: max pooling gives $\begin{bmatrix}2&5\\4&2\end{bmatrix}$,
    average pooling $\begin{bmatrix}1&3\\2&1\end{bmatrix}$ (each window's colour marks its
    output), and GAP gives $28/16 = 1.75$. Max pooling keeps the strongest response in each
    window ("the feature is somewhere here"), average pooling the mean. GAP keeps one number
    per channel, $(N, C, H, W) \to (N, C, 1, 1)$, so a classifier after it needs no weights
    per position and accepts any image size; the price is that all spatial detail is gone.

    **The gradient of max pooling.** Each output is one input element, so its gradient goes
    to that element alone: the window's maximum receives it, the other three get 0. When a
    window has a tie, PyTorch (and `ag.max_pool2d`) give it all to the *first* maximum in
    row-major order, while the reduction `ag.max` splits it evenly among the tied elements.
    Below, the top-right window of the course's map is changed to hold two 5s:
    """),
    code(r"""
    def pool_gradient(values):
        x = ag.Tensor(values[None], requires_grad=True)
        ag.max_pool2d(x, 2).sum().backward()
        return x.grad.numpy()[0]


    def max_gradient(values):  # the same windows, reduced with ag.max
        x = ag.Tensor(values, requires_grad=True)
        windows = x.reshape(2, 2, 2, 2).permute(0, 2, 1, 3).reshape(2, 2, 4)  # (i, j, window)
        ag.max(windows, axis=-1).sum().backward()
        return x.grad.numpy()


    tied = fmap.copy()
    tied[0, 2] = 5.0  # the top-right window is now [[5, 3], [1, 5]]
    fig, axes = plt.subplots(1, 5, figsize=(15, 3.3), layout="constrained")
    show_numbers(axes[0], fmap, "the course's map", boxes=windows)
    show_numbers(axes[1], pool_gradient(fmap), "its max_pool2d gradient", cmap="Oranges",
                 vmin=0, vmax=1.5)
    show_numbers(axes[2], tied, "a tie: two 5s top right", boxes=windows)
    show_numbers(axes[3], pool_gradient(tied), "max_pool2d gradient: first max",
                 cmap="Oranges", vmin=0, vmax=1.5)
    show_numbers(axes[4], max_gradient(tied), "ag.max gradient: tie split",
                 cmap="Oranges", vmin=0, vmax=1.5)
    fig.suptitle("gradient of the sum of the pooled outputs with respect to the map "
                 "(one window's gradient: 1)")
    plt.show()
    """),
    md(r"""
    **Reading.** Each window sends its gradient 1 to one cell: the 2, the 5, the 4 and the 2
    of the course's map. With the tie, max pooling sends the top-right window's gradient to
    the first 5 (row 0, column 2) and nothing to the second; `ag.max` gives each of them 0.5.
    Both are valid subgradients; max pooling follows PyTorch so that trained weights and
    gradients match it exactly. When windows overlap (stride < kernel), an element that is
    the maximum of several windows adds up their gradients.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 6. Training a LeNet-style CNN on the digits

    The bundled 8x8 digits as images: $(N, 1, 8, 8)$, values scaled to $[0, 1]$, 1437 for
    training and 360 for testing (the same split as `demo.py --model cnn`). The network
    follows LeNet's pattern, convolution and pooling to extract features, then fully
    connected layers to classify, at the digits' size, with batch normalization after each
    convolution:

    | layer | output shape | parameters |
    | --- | --- | --- |
    | Conv2d(1, 16, 3, padding=1) + BatchNorm2d + ReLU | 16 x 8 x 8 | 16·9 + 16 + 2·16 |
    | MaxPool2d(2) | 16 x 4 x 4 | |
    | Conv2d(16, 32, 3, padding=1) + BatchNorm2d + ReLU | 32 x 4 x 4 | 32·144 + 32 + 2·32 |
    | MaxPool2d(2), Flatten | 128 | |
    | Linear(128, 64) + ReLU, Linear(64, 10) | 10 | 8256 + 650 |

    The training loop is the course's five lines: outputs, loss, zero the gradients,
    backward, step. Adam with learning rate $3 \cdot 10^{-3}$, annealed to 0 along a cosine
    over 8 epochs, batches of 32 (the demo's recipe).
    """),
    code(r"""
    X_digits, y_digits = nn.datasets.load_digits()
    X_digits = (X_digits / 16.0).reshape(-1, 1, 8, 8)  # (N, C, H, W)
    order = np.random.default_rng(0).permutation(len(X_digits))
    X_test, y_test = X_digits[order[:360]], y_digits[order[:360]]
    X_train, y_train = X_digits[order[360:]], y_digits[order[360:]]


    def lenet_style():
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Linear(64, 10),
        )


    def test_accuracy(net):
        net.eval()  # batch norm uses its running statistics
        return float(np.mean(nn.predict(net, X_test).argmax(axis=1) == y_test))


    def train(net, epochs, lr=3e-3, seed=0):
        # returns the per-epoch history and the CPU seconds spent in the training loop
        loss_fn = nn.CrossEntropyLoss()
        optimizer = nn.optim.Adam(net.parameters(), lr=lr)
        scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        train_loader = nn.data.DataLoader(nn.data.TensorDataset(X_train, y_train),
                                          batch_size=32, shuffle=True, seed=seed)
        history, seconds = {"loss": [], "test accuracy": []}, 0.0
        for _ in range(epochs):
            net.train()
            start, total = time.process_time(), 0.0
            for imgs, targets in train_loader:
                outputs = net(imgs)
                loss = loss_fn(outputs, targets)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(targets)
            scheduler.step()
            seconds += time.process_time() - start
            history["loss"].append(total / len(y_train))
            history["test accuracy"].append(test_accuracy(net))
        return history, seconds


    nn.manual_seed(0)
    cnn = lenet_style()
    print(cnn)
    cnn_history, cnn_seconds = train(cnn, epochs=8)
    print(f"{sum(p.numel() for p in cnn.parameters()):,} parameters, "
          f"trained in {cnn_seconds:.1f} s of CPU time; test accuracy by epoch:",
          np.round(cnn_history["test accuracy"], 4))
    """),
    code(r"""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    epochs = np.arange(1, 9)
    axes[0].plot(epochs, cnn_history["loss"], marker=".")
    axes[0].set(yscale="log", title="training loss (mean over the epoch): falls steadily",
                xlabel="epoch", ylabel="cross-entropy")
    axes[1].plot(epochs, cnn_history["test accuracy"], marker=".", color="C2")
    axes[1].set(title="test accuracy after each epoch", xlabel="epoch", ylabel="accuracy")
    for ax in axes:
        ax.grid(alpha=0.3)
    plt.show()
    final_accuracy = cnn_history["test accuracy"][-1]
    print(f"training loss {cnn_history['loss'][0]:.3f} in epoch 1, "
          f"{cnn_history['loss'][-1]:.4f} in epoch 8")
    print(f"final test accuracy {final_accuracy:.2%}: "
          f"{round((1 - final_accuracy) * len(y_test))} of {len(y_test)} test digits wrong")
    """),
    md(r"""
    **Reading.** The training loss falls by two orders of magnitude, from 1.06 in the first
    epoch to 0.0085 in the eighth. The test accuracy is 94% after one epoch, 98% after two, and
    98.89% from the fifth epoch on: 4 of the 360 test digits are wrong. Where are the
    parameters?
    """),
    code(r"""
    for name, layers in [("convolutions (with their batch norms)", [0, 1, 4, 5]),
                         ("dense layers", [9, 11])]:
        count = sum(p.numel() for i in layers for p in cnn[i].parameters())
        print(f"{name:38s} {count:5,} parameters")
    """),
    md(r"""
    **Reading.** Most of them are in the dense layers (8,906 of 13,802), as in LeNet-5 and
    AlexNet. The convolutions, which look at every position of the image, need only 4,896:
    each 3x3 filter is one set of weights shared by all positions.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 7. What the network learned: filters and feature maps

    The 16 first-layer filters are 3x3 weight patterns. A feature map is one filter's
    response at every position of the image, here after batch norm and ReLU, so only positive
    responses survive: a map is bright where the image looks like its filter. Four test
    digits, one per row, each with its 16 maps in the columns of the filters that made them:
    """),
    code(r"""
    examples = [int(np.flatnonzero(y_test == d)[0]) for d in (0, 1, 4, 7)]
    digits = X_test[examples]  # (4, 1, 8, 8)
    cnn.eval()
    with ag.no_grad():
        maps = cnn[:3](digits).numpy()  # conv, batch norm, ReLU: (4, 16, 8, 8)
        predicted = cnn(digits).numpy().argmax(axis=1)
    filters = cnn[0].weight.numpy()[:, 0]  # (16, 3, 3)

    fig, axes = plt.subplots(5, 17, figsize=(15, 5.4), layout="constrained")
    lim = np.abs(filters).max()
    for k in range(16):
        im_w = axes[0, k + 1].imshow(filters[k], cmap="RdBu_r", vmin=-lim, vmax=lim)
        axes[0, k + 1].set_title(f"filter {k}", fontsize=8)
    for row, (image, label, guess) in enumerate(zip(digits, y_test[examples], predicted), 1):
        axes[row, 0].imshow(image[0], cmap="gray_r", vmin=0, vmax=1)
        axes[row, 0].set_title(f"label {label}, pred. {guess}", fontsize=8)
        for k in range(16):
            im_m = axes[row, k + 1].imshow(maps[row - 1, k], cmap="magma", vmin=0,
                                           vmax=maps.max())
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].axis("off")
    fig.colorbar(im_w, ax=axes[0, :], shrink=0.9, label="weight")
    fig.colorbar(im_m, ax=axes[1:, :], shrink=0.6, label="response")
    fig.suptitle("top row: the first layer's 3x3 filters (red > 0 > blue); below: each digit "
                 "and its 16 feature maps (one colour scale for all maps)")
    plt.show()
    print(f"zero entries in the maps (ReLU cut them): {np.mean(maps == 0):.0%}")
    # how much each map looks like the digit itself: correlation over the 64 pixels
    correlation = [np.mean([np.corrcoef(m[k].ravel(), d[0].ravel())[0, 1]
                            for m, d in zip(maps, digits)]) for k in range(16)]
    print("filter:                      ", " ".join(f"{k:5d}" for k in range(16)))
    print("sum of its 9 weights:        ", " ".join(f"{w:5.2f}" for w in filters.sum(axis=(1, 2))))
    print("map vs digit, correlation:   ", " ".join(f"{c:5.2f}" for c in correlation))
    """),
    md(r"""
    **Reading.** The filters are small and noisy, but the numbers sort them into kinds.
    Filters whose weights add up to a clearly positive number (8, 9, 10, 11, 15: sums 0.64 to
    1.28) respond to ink: their maps are thickened copies of the strokes (correlation with the
    digit 0.57 to 0.69). Filter 6 is the opposite, its weights add up to −1.11: its maps are
    the digit's negative, bright on the empty background and dark on the strokes
    (correlation −0.61). The filters whose weights add up to about zero (between −0.4 and
    0.3) respond to changes rather than to ink, to particular edges and stroke ends, and their
    maps resemble the digit less (correlations −0.16 to 0.44). About half of all map entries
    (54%) are exactly zero, cut by the ReLU: each filter is silent where its pattern is
    absent. Each output of the second convolution combines all 16 maps over a 3x3 window of
    the pooled maps, which covers 8x8 pixels of the input: features of the whole digit.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 8. BatchNorm2d: statistics per channel

    For an input $(N, C, H, W)$, `BatchNorm2d` normalizes each channel $c$ with the mean and
    variance over $N$, $H$ and $W$ (all the values of that channel in the batch),

    $$\hat x = \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}}, \qquad
    y = \gamma_c \hat x + \beta_c,$$

    with learned $\gamma_c$ (`weight`, starting at 1) and $\beta_c$ (`bias`, starting at 0).
    In training mode it also keeps running averages of the statistics,
    $r \leftarrow (1 - m)\,r + m \cdot \text{stat}$ with momentum $m = 0.1$ (the variance
    unbiased, as PyTorch), and in eval mode it normalizes with those instead of the batch's,
    so a prediction does not depend on the rest of the batch.

    A batch of 32 random "feature maps" with three channels on very different scales
    (means 2, −1, 10; standard deviations 1, 5, 0.2), through a fresh `BatchNorm2d(3)`:
    """),
    code(r"""
    rng = np.random.default_rng(0)
    scales, shifts = np.array([1.0, 5.0, 0.2]), np.array([2.0, -1.0, 10.0])


    def feature_batch(n=32):
        return rng.standard_normal((n, 3, 8, 8)) * scales[:, None, None] + shifts[:, None, None]


    bn = nn.BatchNorm2d(3)
    xb = feature_batch()
    yb = bn(xb).numpy()  # training mode: the batch's statistics


    def per_channel(a):  # mean and (biased) variance of each channel over N, H, W
        return a.mean(axis=(0, 2, 3)), a.var(axis=(0, 2, 3))


    print("input  mean per channel", per_channel(xb)[0], "  variance", per_channel(xb)[1])
    print("output mean per channel", per_channel(yb)[0], "  variance", per_channel(yb)[1])
    print("running_mean after one batch", bn.running_mean, "= 0.9 * 0 + 0.1 * batch mean")
    print("running_var  after one batch", bn.running_var,
          "= 0.9 * 1 + 0.1 * unbiased batch variance")

    running = [bn.running_mean.copy()]
    for _ in range(59):
        bn(feature_batch())
        running.append(bn.running_mean.copy())
    running = np.array(running)
    fig, ax = plt.subplots(figsize=(8, 3.4), layout="constrained")
    for c in range(3):
        ax.plot(np.arange(1, 61), running[:, c], color=f"C{c}", label=f"channel {c}")
        ax.axhline(shifts[c], color=f"C{c}", ls=":", lw=1)
    ax.set(title="running_mean approaches each channel's true mean (dotted) as batches pass",
           xlabel="training batches seen", ylabel="running_mean")
    ax.legend()
    ax.grid(alpha=0.3)
    plt.show()
    bn.eval()
    one = feature_batch(1)
    alone, in_batch = bn(one).numpy(), bn(np.concatenate([one, feature_batch(31)])).numpy()[:1]
    print(f"after 60 batches: running_mean {bn.running_mean}, running_var {bn.running_var}")
    print("eval mode: one image normalized alone or inside a batch, max difference",
          np.abs(alone - in_batch).max())
    """),
    md(r"""
    **Reading.** Whatever the scale of a channel on the way in, it leaves the layer in
    training mode with mean 0 and variance 1 (up to $\epsilon$: $\sigma^2/(\sigma^2 +
    10^{-5})$ is 0.99975 for the channel with standard deviation 0.2). After one batch the
    running statistics have moved only a tenth of the way from their starting values (0
    and 1); the curve shows them approach the true means over about 30 batches
    ($0.9^{30} \approx 0.04$ of the start is left). In eval mode an image is normalized the same
    way alone or in a batch (difference 0).

    The same statistics inside the trained CNN: the first batch-norm layer sees the 16
    channels of the first convolution. Its running statistics, accumulated during training,
    against the statistics of the same channels computed over the whole test set:
    """),
    code(r"""
    cnn.eval()
    with ag.no_grad():
        conv1_out = cnn[0](X_test).numpy()  # (360, 16, 8, 8): the input of cnn[1]
        bn1_out = cnn[1](conv1_out).numpy()
    bn1 = cnn[1]
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.8), layout="constrained")
    axes[0].scatter(conv1_out.mean(axis=(0, 2, 3)), bn1.running_mean, label="mean")
    axes[0].scatter(conv1_out.var(axis=(0, 2, 3)), bn1.running_var, label="variance")
    lim = [min(axes[0].get_xlim()[0], axes[0].get_ylim()[0]),
           max(axes[0].get_xlim()[1], axes[0].get_ylim()[1])]
    axes[0].plot(lim, lim, "k:", lw=1, label="equal")
    axes[0].set(title="16 channels: running statistics vs test set", xlabel="over the test set",
                ylabel="running statistic (from training)")
    axes[0].legend()
    k = np.arange(16)
    axes[1].bar(k - 0.2, bn1_out.std(axis=(0, 2, 3)), 0.4, color="C2",
                label="output standard deviation")
    axes[1].bar(k + 0.2, bn1_out.mean(axis=(0, 2, 3)), 0.4, color="C4", label="output mean")
    axes[1].scatter(k - 0.2, bn1.weight.numpy(), marker="_", s=200, color="k", zorder=3,
                    label="learned γ (weight)")
    axes[1].scatter(k + 0.2, bn1.bias.numpy(), marker="x", color="k", zorder=3,
                    label="learned β (bias)")
    axes[1].set(title="the layer's output on the test set, per channel (bars), and γ, β",
                xlabel="channel", xticks=k)
    axes[1].set_ylim(-0.3, 1.55)
    axes[1].legend(fontsize=8, loc="upper center", ncols=2)
    for ax in axes:
        ax.grid(alpha=0.3)
    plt.show()
    test_mean, test_var = conv1_out.mean(axis=(0, 2, 3)), conv1_out.var(axis=(0, 2, 3))
    ratio = bn1.running_var / test_var
    print(f"max |running_mean - test-set mean| = {np.abs(test_mean - bn1.running_mean).max():.3f}"
          f"; running_var / test-set variance between {ratio.min():.2f} and {ratio.max():.2f}")
    print("γ:", bn1.weight.numpy().round(2))
    print("β:", bn1.bias.numpy().round(2))
    """),
    md(r"""
    **Reading.** The points lie on the diagonal: the running statistics accumulated during
    training match the statistics of the test set (means within 0.003, variances within 3%),
    so in eval mode the layer normalizes test images as a batch of them would be normalized.
    The bars show what $y = \gamma \hat x + \beta$ does: on the test set each channel leaves
    the layer with standard deviation $\gamma_c$ and mean $\beta_c$ (the markers sit on the
    bars). Training kept $\gamma$ near 1 (0.94 to 1.10) and moved $\beta$ slightly below 0 in
    most channels (down to −0.17): the ReLU that follows then zeroes a little more of
    each map.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 9. Image augmentation

    Augmentation makes new training images from old ones by changes that keep the label
    true, so the network sees more variety and overfits less (AlexNet relied on it). The
    transforms in `nn.transforms` take a batch $(N, C, H, W)$ and are seeded:

    - `RandomHorizontalFlip(p)`: mirror each image left-right with probability $p$;
    - `RandomCrop(size, padding)`: pad with zeros, then cut a window of `size` at a random
      position (the picture shifts by up to `padding` pixels);
    - `PCAColorAugmentation(alpha_std)`: AlexNet's colour change. `fit` finds the principal
      components of the RGB colours of all training pixels, eigenvectors $p_i$ and eigenvalues
      $\lambda_i$ of their 3x3 covariance; each image then gets, on every pixel, the same
      offset $\sum_i \alpha_i \lambda_i p_i$, with $\alpha_i \sim N(0, \sigma^2)$ drawn per
      image ($\sigma$ = `alpha_std`).

    Here the only "training image" is the photo, so the colour components are fitted on its
    10,000 pixels:
    """),
    code(r"""
    pca = nn.transforms.PCAColorAugmentation(alpha_std=0.1, generator=0).fit(photo[None])
    print("eigenvalues λ:", pca.eigenvalues.round(5), "  √λ:", np.sqrt(pca.eigenvalues).round(3))
    print("eigenvectors p_i (columns), in R, G, B:\n", pca.eigenvectors.round(2))
    offsets = pca.offsets(10_000)
    print("alpha_std 0.1: typical |offset| per channel", np.abs(offsets).mean(axis=0).round(4),
          f"(one grey level is 1/255 = {1 / 255:.4f})")
    """),
    md(r"""
    The first component is (up to sign) $(0.56, 0.57, 0.60)$: all three channels together,
    i.e. brightness; it carries most of the variance ($\lambda_1$ is more than ten times
    $\lambda_2$). The second, $(-0.70, -0.06, 0.71)$, trades red against blue (warm against
    cool light), the third green against red and blue.

    **Why `alpha_std=0.1` does nothing visible here.** The offset is scaled by $\lambda_i$, a
    *variance*: it has the units of pixel value squared. With pixels in $[0, 1]$,
    $\lambda_1 = 0.043$, so at $\sigma = 0.1$ the offset along $p_1$ has standard deviation
    $0.1 \cdot 0.043 \approx 0.004$, about one grey level ($1/255$): a typical change of 0.002
    per channel (printed above). Compared with the spread of the photo's colours along $p_1$,
    $\sqrt{\lambda_1} = 0.21$, that is $\sigma \sqrt{\lambda_1} = 2\%$. The same images stored
    as 0..255 would have every $\lambda_i$ $255^2$ times larger, and the same $\sigma$ would
    move colours 255 times further relative to the image. So `alpha_std` depends on the pixel
    scale; for $[0, 1]$ images a visible effect needs `alpha_std` of a few units: with 5, the
    offset along $p_1$ has standard deviation $5 \lambda_1 \approx 0.21$, one spread of the
    photo's brightness.
    """),
    code(r"""
    batch = np.repeat(photo[None], 6, axis=0)  # six copies of the photo, (6, 3, 100, 100)
    flip = nn.transforms.RandomHorizontalFlip(p=0.5, generator=1)
    crop = nn.transforms.RandomCrop(100, padding=16, generator=2)
    pca_small = nn.transforms.PCAColorAugmentation(alpha_std=0.1, generator=3).fit(photo[None])
    pca_large = nn.transforms.PCAColorAugmentation(alpha_std=5.0, generator=3).fit(photo[None])
    pipeline = nn.transforms.Compose([  # colour first, so the crop's padding stays black
        nn.transforms.PCAColorAugmentation(alpha_std=5.0, generator=4).fit(photo[None]),
        nn.transforms.RandomHorizontalFlip(p=0.5, generator=5),
        nn.transforms.RandomCrop(100, padding=16, generator=6),
    ])
    flipped = flip(batch)
    is_flipped = [np.array_equal(f, photo[:, :, ::-1]) for f in flipped]
    small, large = pca_small(batch), pca_large(batch)
    grid_rows = [
        ("RandomHorizontalFlip(0.5)", flipped,
         ["flipped" if f else "unchanged" for f in is_flipped]),
        ("RandomCrop(100, padding=16)", crop(batch), None),
        ("PCA colour, alpha_std 0.1", small,
         [f"|offset| ≤ {np.abs(s - photo).max():.3f}" for s in small]),
        ("PCA colour, alpha_std 5", large,
         [f"offset {np.round((s - photo)[:, 0, 0], 2)}" for s in large]),
        ("Compose: PCA 5, flip, crop", pipeline(batch), None),
    ]
    fig, axes = plt.subplots(len(grid_rows), 7, figsize=(15, 11.5), layout="constrained")
    for row, (name, images, captions) in zip(axes, grid_rows):
        row[0].imshow(photo.transpose(1, 2, 0), interpolation="nearest")
        row[0].set_title("original", fontsize=9)
        row[0].set_ylabel(name, fontsize=10)
        for k, (ax, img) in enumerate(zip(row[1:], images)):
            ax.imshow(np.clip(img, 0, 1).transpose(1, 2, 0), interpolation="nearest")  # clipped
            if captions:
                ax.set_title(captions[k], fontsize=8)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("six random draws of each augmentation (colours clipped to [0, 1] for display)")
    plt.show()
    constant = all(np.ptp((s - photo).reshape(3, -1), axis=1).max() < 1e-12 for s in large)
    print("PCA offset constant over the pixels of each image:", constant)
    """),
    md(r"""
    **Reading.** Flip: three of the six draws are mirrored ($p = 0.5$); a cat is a cat either
    way. Crop: the picture shifts by up to 16 pixels in each direction, and the black bands are
    the zero padding that came into the window. PCA at `alpha_std` 0.1: the six images cannot
    be told from the original; the largest change is under 0.01, about two grey levels. PCA at
    `alpha_std` 5: the offsets printed over the images (one colour, the same on every pixel, as
    checked above) have nearly equal R, G and B, i.e. they lie mostly along $p_1$: the
    lighting gets brighter or darker, with a faint warm or cool tint from $p_2$. The two PCA
    rows use the same random draws (the same seed), so each offset in the 0.1 row is 1/50 of
    the one below it. The composed pipeline applies all three, so the variety multiplies.
    """),
    code(r"""
    digit_crop = nn.transforms.RandomCrop(8, padding=1, generator=0)
    loader = nn.data.DataLoader(nn.data.TensorDataset(X_train[:8], y_train[:8]), batch_size=8,
                                transform=digit_crop)
    imgs, labels = next(iter(loader))
    mirrored = X_train[:8, :, :, ::-1]
    fig, axes = plt.subplots(3, 8, figsize=(11, 4.6), layout="constrained")
    for k in range(8):
        for row, (images, name) in enumerate([(X_train, "original"), (imgs, "crop, padding 1"),
                                              (mirrored, "mirrored")]):
            axes[row, k].imshow(np.asarray(images[k, 0]), cmap="gray_r", vmin=0, vmax=1)
            axes[row, k].set_xticks([])
            axes[row, k].set_yticks([])
            if k == 0:
                axes[row, k].set_ylabel(name, fontsize=9)
        axes[0, k].set_title(f"label {labels[k]}", fontsize=9)
    fig.suptitle("digits: a DataLoader with transform=RandomCrop(8, padding=1) (middle); "
                 "mirrored, a digit is often no digit at all (bottom)", fontsize=10)
    plt.show()
    """),
    md(r"""
    **Reading.** A crop with one pixel of padding shifts each digit by at most a pixel, and
    it is still the same digit: an augmentation that suits these images. A horizontal flip does
    not: mirrored, the 3s and the 5s are no longer digits at all, and a label that is no
    longer true teaches the network something wrong. Which changes keep a label true depends on
    the data.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 10. LeNet vs a small ResNet

    Three networks, trained with the same recipe (Adam $3 \cdot 10^{-3}$, cosine annealing,
    batches of 32) for 4 epochs each, from the same split:

    - `nn.models.LeNet5`: LeNet-5 as in PyTorch's tutorial (5x5 convolutions with 6 and 16
      channels, ReLU, max pooling, dense layers 400-120-84-10, no batch norm); on 8x8 inputs
      an adaptive average pool resizes its 2x2 maps to LeNet's 5x5, so it keeps the classic
      61,706 parameters;
    - the LeNet-style network of section 6 (with batch norm), retrained for 4 epochs;
    - `nn.models.ResNet(widths=(8, 16))`: a 3x3 stem, one residual `BasicBlock` at 8
      channels (8x8 maps) and one at 16 (stride 2, 4x4 maps), global average pooling and one
      linear layer.
    """),
    code(r"""
    contenders = {
        "LeNet-5": lambda: nn.models.LeNet5(),
        "LeNet-style + BatchNorm": lenet_style,
        "ResNet (8, 16)": lambda: nn.models.ResNet(widths=(8, 16)),
    }
    results = {}
    for name, make in contenders.items():
        nn.manual_seed(0)
        net = make()
        history, seconds = train(net, epochs=4)
        results[name] = (net, history, seconds)

    rows = ["| network | parameters | convolutions | batch norms | CPU time, 4 epochs "
            "| per epoch | test accuracy |", "| --- |" + " ---: |" * 6]
    for name, (net, history, seconds) in results.items():
        n_params = sum(p.numel() for p in net.parameters())
        n_convs = sum(isinstance(m, nn.Conv2d) for m in net.modules())
        n_norms = sum(isinstance(m, nn.BatchNorm2d) for m in net.modules())
        rows.append(f"| {name} | {n_params:,} | {n_convs} | {n_norms} | {seconds:.1f} s "
                    f"| {seconds / 4:.2f} s | {history['test accuracy'][-1]:.2%} |")
    display(Markdown("\n".join(rows)))
    for name, (net, history, seconds) in results.items():
        print(f"{name:24s} test accuracy by epoch:", np.round(history["test accuracy"], 4))

    fig, ax = plt.subplots(figsize=(7, 3.4), layout="constrained")
    for name, (net, history, seconds) in results.items():
        ax.plot(np.arange(1, 5), history["test accuracy"], marker="o", label=name)
    ax.set(title="test accuracy after each epoch (higher is better)", xlabel="epoch",
           ylabel="accuracy", xticks=range(1, 5))
    ax.legend()
    ax.grid(alpha=0.3)
    plt.show()
    """),
    md(r"""
    **Reading.** With the same recipe and 4 epochs, the LeNet-style network with batch norm
    is the most accurate (98.3%), the ResNet close behind (97.2%), and the classic LeNet-5 far
    behind (89.2%), still improving (it started at 45% after one epoch). LeNet-5 has by far the
    most parameters, twelve times the ResNet's, most of them in its dense layers 400-120-84; a
    parameter count does not say how fast a network learns. The LeNet-style network has the
    same plan as LeNet-5 (two convolutions with pooling, then dense layers) but 3x3 kernels,
    more channels and batch norm, and after one epoch it is already more accurate than
    LeNet-5 after four. The ResNet has the fewest parameters but the most layers (six
    convolutions, three of them on the full 8x8 maps, and six batch norms), and it takes the
    most CPU time per epoch: the cost of a network follows the operations each image passes
    through, not the number of weights. (Times vary from run to run; the order is what to
    read.)
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 11. Residual connections and the flow of gradients

    Backpropagation through a stack of layers multiplies the gradient by each layer's
    Jacobian. In a plain network, $x_{l+1} = f_l(x_l)$,

    $$\frac{\partial L}{\partial x_l} = \frac{\partial L}{\partial x_{L}}
    \frac{\partial f_{L-1}}{\partial x_{L-1}} \cdots \frac{\partial f_l}{\partial x_l},$$

    and if each factor shrinks the gradient, the product shrinks geometrically with depth.
    A residual block computes $x_{l+1} = x_l + f_l(x_l)$, so its Jacobian is
    $I + \partial f_l / \partial x_l$: the identity term passes the gradient from the loss
    back to every layer unchanged, whatever the blocks do, and each block adds its own
    contribution on top.

    **Experiment.** A stem convolution, then 20 blocks $f_l$ = ReLU followed by a 3x3
    convolution (8 channels), then GAP and a linear layer, in PyTorch's default
    initialization. The same blocks stacked plainly, $x_{l+1} = f_l(x_l)$, and with residual
    connections, $x_{l+1} = x_l + f_l(x_l)$; and both again with a `BatchNorm2d` at the start
    of each block (batch norm, ReLU, convolution: the order of the "pre-activation" residual
    block of He et al., 2016, with one convolution instead of two). One batch of 64 digits,
    one backward pass, at initialization; `retain_grad()` keeps $\partial L / \partial x_l$
    at the output of every block.
    """),
    code(r"""
    class DeepCNN(nn.Module):
        # a stem conv, `depth` blocks ([batch norm,] ReLU, 3x3 conv), then GAP and a linear layer

        def __init__(self, depth, residual, batch_norm=False, width=8):
            super().__init__()
            self.residual = residual
            self.stem = nn.Conv2d(1, width, 3, padding=1)
            self.blocks = nn.ModuleList(
                nn.Sequential(*([nn.BatchNorm2d(width)] if batch_norm else []), nn.ReLU(),
                              nn.Conv2d(width, width, 3, padding=1))
                for _ in range(depth)
            )
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10))
            self.retain = False

        def forward(self, x):
            x = self.stem(x)
            self.outputs = []
            for block in self.blocks:
                x = x + block(x) if self.residual else block(x)
                if self.retain:
                    x.retain_grad()  # keep dL/dx_l for the plot
                    self.outputs.append(x)
            return self.head(x)


    variants = {"plain": (False, False), "residual": (True, False),
                "plain + batch norm": (False, True), "residual + batch norm": (True, True)}
    flows = {}
    for name, (residual, batch_norm) in variants.items():
        nn.manual_seed(0)
        deep = DeepCNN(20, residual, batch_norm)
        deep.retain = True
        loss = nn.CrossEntropyLoss()(deep(X_train[:64]), y_train[:64])
        loss.backward()
        flows[name] = (
            np.array([np.linalg.norm(x.grad.numpy()) for x in deep.outputs]),
            np.array([np.linalg.norm(block[-1].weight.grad.numpy()) for block in deep.blocks]),
        )
        (act, weight) = flows[name]
        print(f"{name:22s} loss {loss.item():.3f}   block 1 / block 20: "
              f"‖∂L/∂x‖ {act[0]:.1e} / {act[-1]:.1e} = {act[0] / act[-1]:.2g},   "
              f"‖∂L/∂W‖ {weight[0]:.1e} / {weight[-1]:.1e} = {weight[0] / weight[-1]:.2g}")

    fig, axes = plt.subplots(1, 2, figsize=(13, 4), layout="constrained")
    blocks = np.arange(1, 21)
    for name, (act, weight) in flows.items():
        style = {"ls": "-" if name.startswith("residual") else "--", "marker": ".",
                 "color": "C1" if "batch norm" in name else "C0"}
        axes[0].semilogy(blocks, act, label=name, **style)
        axes[1].semilogy(blocks, weight, label=name, **style)
    axes[0].set(title="‖∂L/∂x_l‖ at the output of block l", ylabel="gradient norm")
    axes[1].set(title="‖∂L/∂W_l‖, the convolution weight of block l", ylabel="gradient norm")
    for ax in axes:
        ax.set(xlabel="block l (1 = nearest the input)", xticks=blocks)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("gradients at initialization, 20 blocks: backpropagation runs from the right "
                 "(block 20, next to the loss) to the left")
    plt.show()
    """),
    md(r"""
    **Reading.** Plain (blue, dashed): going back one block divides the gradient by about
    3 (each ReLU + convolution, in PyTorch's default initialization, shrinks the signal), so
    at block 1 it is $10^{-9}$ times its value at block 20, for $\partial L / \partial x_l$ and
    for the weights alike. Gradient descent would leave the first blocks where they started.
    Residual (blue, solid): the same blocks and the same weights, and the gradient reaches
    block 1 undiminished: the weight gradient is 0.66 there against 0.44 at block 20, and
    $\partial L / \partial x_l$ even grows towards the input (3.3 times), because every block
    adds its own path to the identity path. Batch norm (orange) rescales the signal in every
    block, so the plain network no longer vanishes; its gradients grow towards the input
    instead ($\partial L / \partial x_1$ 30 times $\partial L / \partial x_{20}$, the weight
    gradient 8.6 times). With residual connections as well the spread is smaller (9.2 and 2.6
    times). ResNet uses both.
    """),
    md(r"""
    The same effect in the graph drawing, on 5 blocks without batch norm: `draw_graph(...,
    show_grads=True, collapse_modules=True)` draws each module call as one box coloured by
    the norm of its parameters' gradients on a log scale. **Each drawing has its own colour
    scale**: read the two numbers at the ends of the colour bar in its legend.
    """),
    code(r"""
    drawings = {}
    for name in ["plain", "residual"]:
        nn.manual_seed(0)
        small_net = DeepCNN(5, residual=name == "residual")
        loss = nn.CrossEntropyLoss()(small_net(X_train[:64]), y_train[:64])
        loss.backward()
        drawings[name] = ag.draw_graph(
            loss, show_grads=True, model=small_net, collapse_modules=True,
            title=f"{name}: 5 blocks, colours = ‖gradient‖ of each module's parameters",
        )
    drawings["plain"]
    """),
    code(r"""
    drawings["residual"]
    """),
    md(r"""
    **Reading.** In the plain network the colours run from yellow at the head to dark purple
    at the stem: the norms written in the boxes fall from 0.11 (head) and 0.087 (last block)
    to 0.00017 at the stem, a factor of about 700 from the head to the stem. In the residual
    network every box is green or yellow and its norm lies between 0.13 and 0.20: the
    gradient reaches the stem as strong as the head's. The curved edges into each `add` are the
    shortcuts; along them the gradient goes back without passing through any convolution.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## Summary

    | topic | what we saw |
    | --- | --- |
    | convolution | four loops, `conv2d`, and `unfold` + one matrix product agree exactly |
    | size formula | matched `conv2d` in every case; the course's 3x3, $P = 1$, 2x2 example: 4x4 |
    | multi-channel | one filter, one output channel: a sum over input channels + bias |
    | parameters | `Conv2d(3, 16, 3)`: 448; a dense layer, same input and output: 4.8 billion |
    | pooling | max $[[2, 5], [4, 2]]$, average $[[1, 3], [2, 1]]$, GAP 1.75 |
    | max pooling's gradient | one per window, to its first maximum (`ag.max` splits ties) |
    | LeNet-style CNN | 98.89% test accuracy; filters for ink, for background, for edges |
    | BatchNorm2d | mean 0, variance 1 per channel, then $\gamma$, $\beta$; running stats fit |
    | augmentation | flip, crop, PCA colour; `alpha_std` depends on the pixel scale |
    | LeNet vs ResNet | batch norm and 3x3 kernels beat parameter count; time follows layers |
    | residual connections | 20 plain blocks: gradient $10^{-9}$ at block 1; with shortcuts: kept |
    """),
]


if __name__ == "__main__":
    build("04_convolutional_networks.ipynb", CELLS)
