"""Sequences and autoregressive models: n-grams, the RNN, vanishing gradients, the LSTM, attention, PixelCNN."""

import time

import streamlit as st
import torch

from dlplay import checkpoints, viz
from dlplay import sequences as sq
from dlplay.errors import InputError
from dlplay.sequences import figures as fg
from dlplay.sequences import text as T
from dlplay.topics import checkpoint_bytes
from dlplay.ui import device_badge, errors_shown, image_grid, page_header, present, training_panel
from dlplay.ui import share

# Default budgets are step counts (issue 30): a busy lecture server trains the same model as an idle laptop; the
# panel shows the seconds a run took here. Rates measured on one thread of the 2-core laptop, 7 Dec.
CHAR_STEPS = {"rnn": 1000, "lstm": 300}   # about 31 and 9 steps/s: about 32 s each
NGRAM_STEPS = 100     # 20,000 characters counted per step, about 22 steps/s: 5 s
# The copy, reverse and pixel parts train for their shipped models' step counts, so 'yours' and 'shipped' compare:
# part -> (steps, seconds when the budget is a time), read by the panels and by the page's link alike.
PART_BUDGETS = {"copy": (sq.SHIPPED["seq_copy_lstm_d20"].steps, 20.0),
                "rev": (sq.SHIPPED["seq_reverse_attention"].steps, 30.0),
                "pix": (sq.SHIPPED["seq_pixelcnn_digits"].steps, 30.0)}

page_header(
    "Sequences and autoregressive models",
    "Text, speech and even images can be generated one piece at a time: the chain rule writes any joint "
    "probability as a product of next-piece predictions, so a model only has to learn p(next | everything "
    "before). An n-gram model shortens *everything before* to the last few symbols (the Markov assumption); a "
    "recurrent net carries a state instead, the LSTM keeps that state alive over long gaps, attention lets a "
    "decoder look back at every input, and a PixelCNN applies the same chain rule to the 64 pixels of a digit.",
    formula=r"p(x_1,\dots,x_T)=\prod_{t=1}^{T} p(x_t\mid x_{<t})\qquad "
            r"\text{Markov: } p(x_t\mid x_{<t})\approx p(x_t\mid x_{t-n+1..t-1})\qquad s_t=f(Ux_t+Ws_{t-1})",
    try_list=[
        "**Markov**: read the samples of order 1 to 5: plausible letters, then plausible words, never a sentence.",
        "**RNN / LSTM**: type a prompt, generate 500 characters at temperature 0.5, 1 and 0 (greedy: loops); "
        "scrub through the next-character probabilities.",
        "**Vanishing gradients**: compare the untrained curves at k = 30: tanh's falls by many more orders of "
        "magnitude than the LSTM's; ReLU with identity weights hardly falls. Then compare the trained ones.",
        "**Copy task**: read the measured accuracy-against-delay lines, then train the RNN and the LSTM at a "
        "longer delay (30, 50) and try the LSTM's forget-gate bias 1 against 3.",
        "**Attention**: reverse a 12-digit string, two digits longer than any it trained on; the heat map is an "
        "anti-diagonal. Trained from scratch for the page's 2,500 steps (seeds 0-2), attention reverses 86-95% of "
        "10-digit strings exactly and 55-81% of 12-digit ones; without attention 32-64% and 3-12%.",
        "**Pixels**: draw digits pixel by pixel; compare the exact likelihood with the VAE's bound.",
    ])
device_badge()

PARTS = ["1. Markov (n-grams)", "2. The RNN", "3. Vanishing gradients", "4. The LSTM", "5. Attention",
         "6. Autoregressive pixels"]
share.link("sequences", [share.choice("part", "seq:part", PARTS),
                         share.integer("order", "seq:ng:order", 1, 8, 5),
                         share.choice("smoothing", "seq:ng:k", [0.001, 0.01, 0.1, 0.5, 1.0], 0.01),
                         *[p for arch in ("rnn", "lstm") for p in (
                             share.choice(f"{arch}_hidden", f"seq:{arch}:hidden", [64, 128, 192, 256, 512], 192),
                             share.choice(f"{arch}_bptt", f"seq:{arch}:bptt", [16, 32, 64, 128], 64),
                             share.choice(f"{arch}_lr", f"seq:{arch}:lr", [3e-4, 1e-3, 3e-3, 1e-2], 3e-3),
                             *share.panel(f"seq:{arch}:train", steps=CHAR_STEPS[arch], seconds=30.0, prefix=f"{arch}_"))],
                         share.choice("copy_arch", "seq:copy:arch", ["rnn", "lstm"]),
                         share.integer("delay", "seq:copy:delay", 1, sq.rnn.MAX_DELAY, 20),
                         share.choice("forget_bias", "seq:copy:fb", [0.0, 1.0, 2.0, 3.0, 5.0], 1.0),
                         share.flag("attention", "seq:rev:att", True),
                         share.integer("max_len", "seq:rev:len", 2, sq.seq2seq.MAX_LEN, 10),
                         share.choice("channels", "seq:pix:ch", [16, 32, 64, 128], 64),
                         share.integer("layers", "seq:pix:layers", 2, 8, 5),
                         *share.panel("seq:ng:train", steps=NGRAM_STEPS, seconds=5.0, max_seconds=30.0, prefix="ng_"),
                         *[p for part, (steps, seconds) in PART_BUDGETS.items()
                           for p in share.panel(f"seq:{part}:train", steps=steps, seconds=seconds,
                                                prefix=f"{part}_")]])


@st.cache_resource(show_spinner="Loading a shipped model ...")
def _shipped(name: str):
    return sq.load_shipped(name)


@st.cache_resource
def _vae():
    from dlplay import vae

    return vae.load(checkpoints.shipped("vae_digits"))[0]


@st.cache_resource(show_spinner="Counting n-grams in the corpus (a second or two) ...")
def _ngrams(smoothing: float = 0.01):
    task = sq.make_task(sq.CharConfig(arch="ngram", smoothing=smoothing), 0)
    while not task.done:
        task.step()
    return task.models, {o: m.bits_per_char(task.val_ids) for o, m in task.models.items()}


@st.cache_data(show_spinner="Measuring gradients through time ...")
def _gradients() -> dict:
    models = {"tanh RNN, untrained": sq.fresh_char_model("tanh"), "ReLU RNN, identity init, untrained":
              sq.fresh_char_model("relu"), "LSTM, untrained": sq.fresh_char_model("lstm"),
              "tanh RNN, trained (shipped)": _shipped("seq_rnn_lee")[0],
              "LSTM, trained (shipped)": _shipped("seq_lstm_lee")[0]}
    return sq.gradient_curves(models)


@st.cache_data(show_spinner="Testing the shipped reversal models on every length ...")
def _length_curves(lengths: tuple) -> dict:
    return {label: [sq.seq2seq.exact_match(_shipped(name)[0], n, 300) for n in lengths]
            for label, name in (("with attention", "seq_reverse_attention"), ("no attention", "seq_reverse_plain"))}


part = st.radio("Part", PARTS, horizontal=True, key="seq:part", label_visibility="collapsed")


def _model_shown(trainer, shipped_name: str, what: str):
    """(model, held-out metrics, who) of the user's trained model, else the shipped one."""
    if trainer is not None and trainer.steps > 0:
        st.success(f"Showing **your {what}** ({trainer.steps:,} steps).", icon=":material/check_circle:")
        return trainer.task.model, trainer.last_eval, "your model"
    model, _, extra = _shipped(shipped_name)
    st.info(f"Showing the **shipped {what}** ({extra.get('steps', 0):,} training steps). Press *Train* for your "
            "own.", icon=":material/inventory_2:")
    return model, extra, "the shipped model"


def _download(trainer, name: str):
    if trainer is not None and trainer.steps > 0 and hasattr(trainer.task, "model_config"):
        st.download_button("Download your model (checkpoint)", checkpoint_bytes(sq, trainer.task, trainer.last_eval),
                           file_name=f"{name}.pt", key=f"seq:ckpt:{name}", on_click="ignore")


def sampler(key: str, model) -> None:
    """Prompt, temperature and length; the text streams in character by character; then a slider scrubs through
    the next-character distributions that produced it."""
    c = st.columns([2.2, 1.2, 1, 0.8])
    prompt = c[0].text_input("Prompt", "the government said ", key=f"{key}:prompt", max_chars=T.MAX_PROMPT)
    temp = c[1].number_input("Temperature", 0.0, 10.0, 0.8, 0.1, key=f"{key}:temp",
                             help=f"p^(1/T): below 1 safer, above 1 wilder; 0 = greedy. Limit {sq.MAX_TEMPERATURE}.")
    n = c[2].number_input("Characters", 1, 100_000, 500, 50, key=f"{key}:n", help=f"1 to {sq.MAX_SAMPLE_CHARS}.")
    c[3].write("")
    go = c[3].button("Generate", key=f"{key}:go", type="primary")
    store = st.session_state.setdefault(f"{key}:sample", {})
    with errors_shown():
        note = sq.check_sampling(int(n), float(temp))
        _, unk = T.check_prompt(prompt)
        for msg in (note, unk):
            if msg:
                st.info(msg, icon=":material/info:")
        if go:
            out = {"prompt": T.clean(prompt), "chars": [], "dists": []}

            def chars():
                g = torch.Generator().manual_seed(int(time.time() * 1000) % 2**31)
                for ch, p in sq.stream_sample(model, prompt, int(n), float(temp), g):
                    out["chars"].append(ch)
                    out["dists"].append(p)
                    yield ch

            st.markdown(f"**{out['prompt']}**")
            st.write_stream(chars())
            store.clear()
            store.update(out)
        elif store.get("chars"):
            st.markdown(f"**{store['prompt']}**" + "".join(store["chars"]).replace("*", r"\*"))
    if store.get("chars"):
        text = "".join(store["chars"])
        i = st.slider("Scrub: character number", 1, len(text), 1, key=f"{key}:pos",
                      help="The distribution the model drew this character from, given everything before it.")
        before = (store["prompt"] + text[:i - 1])[-60:]
        st.markdown(f"…`{before}` → drew **{text[i - 1]!r}** with probability "
                    f"{store['dists'][i - 1][T.INDEX[text[i - 1]]]:.3f}")
        st.plotly_chart(fg.next_char_figure(store["dists"][i - 1], text[i - 1]), key=f"{key}:bars")
        st.download_button("Download the text", store["prompt"] + text, file_name="sample.txt",
                           key=f"{key}:dl", on_click="ignore")


def char_part(arch: str) -> None:
    name = {"rnn": "seq_rnn_lee", "lstm": "seq_lstm_lee"}[arch]
    what = {"rnn": "vanilla RNN (tanh)", "lstm": "LSTM"}[arch]
    if arch == "rnn":
        st.markdown("A hand-written recurrent cell reads the text one character at a time and carries a state "
                    "s_t of 192 numbers; after every character it predicts the next one (a loss at every step). "
                    "It is trained by backpropagation through time, truncated to windows of 64 characters (the "
                    "state carries over between windows, the gradient does not).")
        st.latex(r"s_t=\tanh(U x_t + W s_{t-1} + b),\qquad p(x_{t+1}\mid x_{\le t})=\mathrm{softmax}(V s_t + c)")
    else:
        st.markdown("The LSTM keeps a memory cell c_t that is only scaled by a forget gate and added to, so what "
                    "it stores (and the gradient) can survive many steps. Same data, same training, same sampling "
                    "view as the RNN.")
        st.latex(r"\begin{aligned}&i_t,f_t,o_t=\sigma(U_{i,f,o}x_t+W_{i,f,o}h_{t-1}+b),\ "
                 r"g_t=\tanh(U_gx_t+W_gh_{t-1}+b_g)\\&c_t=f_t\odot c_{t-1}+i_t\odot g_t,\qquad "
                 r"h_t=o_t\odot\tanh(c_t)\end{aligned}")
    c = st.columns(3)
    hidden = c[0].select_slider("Hidden size", [64, 128, 192, 256, 512], 192, key=f"seq:{arch}:hidden")
    seq_len = c[1].select_slider("BPTT window (characters)", [16, 32, 64, 128], 64, key=f"seq:{arch}:bptt")
    lr = c[2].select_slider("Learning rate", [3e-4, 1e-3, 3e-3, 1e-2], 3e-3, key=f"seq:{arch}:lr")
    cfg = sq.CharConfig(arch=arch, hidden=hidden, seq_len=seq_len, lr=lr)

    def live(tr):
        txt, _ = sq.sample_text(tr.task.model, "the ", 80, 0.8, torch.Generator().manual_seed(0))
        st.caption(f"Live sample (temperature 0.8, after {tr.steps:,} steps): **the** {txt}")

    trainer = training_panel(f"seq:{arch}:train", sq.make_task, config=cfg, steps=CHAR_STEPS[arch], seconds=30.0,
                             record_every=10,
                             panels={"training bits per character": ["train_bpc"]}, live=live)
    share.code_behind(f"seq:{arch}:train", sq.make_task, cfg,
                      command='train charlm', steps=CHAR_STEPS[arch], seconds=30.0, title='Sequences and autoregressive models')
    model, ev, who = _model_shown(trainer, name, what)
    _download(trainer, f"charlm_{arch}")
    _, bpc = _ngrams()
    best = min(bpc, key=bpc.get)
    m = st.columns(3)
    m[0].metric(f"Validation bits per character ({who})", f"{ev['val_bits_per_char']:.3f}",
                help="Held-out Lee stories (the last 10%): -1/T Σ log2 p(x_t | x_<t). Lower is better.")
    m[1].metric(f"Best n-gram (order {best})", f"{bpc[best]:.3f}", help="Add-k smoothed counts, same split.")
    other = "seq_lstm_lee" if arch == "rnn" else "seq_rnn_lee"
    m[2].metric(f"Shipped {'LSTM' if arch == 'rnn' else 'RNN'}", f"{_shipped(other)[2]['val_bits_per_char']:.3f}")
    sampler(f"seq:{arch}:s", model)


with errors_shown():
    if part == PARTS[0]:
        with present.secondary("How an n-gram model counts", icon=":material/info:"):
            st.markdown("An n-gram model of order n predicts the next character from the previous n-1 only, by "
                        "counting: how often did each character follow this context in the training text? Add-k "
                        "smoothing gives unseen continuations a little probability. Higher orders see more context "
                        "but have fewer examples of each context: on a 320,000-character corpus order 5 is about the "
                        "limit, and even its best guesses write plausible words, not sense.")
            st.latex(r"p(x_t\mid x_{t-n+1..t-1})=\frac{\mathrm{count}(x_{t-n+1..t-1},x_t)+k}"
                     r"{\mathrm{count}(x_{t-n+1..t-1})+kV}")
        # presenter mode (issue 26): the knobs and Train on the left, bits per character by order on the right
        ctl, stage = present.stage()
        with ctl:
            c = st.columns(3)
            order = c[0].slider("Order n (for sampling)", 1, 8, 5, key="seq:ng:order")
            k = c[1].select_slider("Add-k smoothing", [0.001, 0.01, 0.1, 0.5, 1.0], 0.01, key="seq:ng:k")
            trainer = training_panel("seq:ng:train", sq.make_task, config=sq.CharConfig(arch="ngram", order=order,
                                     smoothing=k), steps=NGRAM_STEPS, seconds=5.0, max_seconds=30.0,
                                     panels={"validation bits per character, by order (x: steps of 20,000 characters "
                                             "counted)": [f"val_bpc_order{o}" for o in sq.tasks.NGRAM_ORDERS]})
            share.code_behind("seq:ng:train", sq.make_task, sq.CharConfig(arch="ngram", order=order,
                                     smoothing=k),
                              command='train charlm', steps=NGRAM_STEPS, seconds=5.0, title='Sequences and autoregressive models')
            if trainer is not None and trainer.steps > 0:
                models = trainer.task.models
                bpc = {o: m.bits_per_char(trainer.task.val_ids) for o, m in models.items()}
                st.success(f"Showing **your counts** ({trainer.task.pos:,} characters counted, k = {k}).",
                           icon=":material/check_circle:")
            else:
                models, bpc = _ngrams()
                st.info("Showing counts over the whole training text (k = 0.01). Press *Train* to watch them grow "
                        "chunk by chunk with your k.", icon=":material/inventory_2:")
                if order not in models:
                    models = {**models, order: T.NGram(order, 0.01).fit(T.corpus("lee")[0])}
        with stage:
            rows = {f"order {o}": v for o, v in sorted(bpc.items())}
            rows["LSTM (shipped)"] = _shipped("seq_lstm_lee")[2]["val_bits_per_char"]
            st.plotly_chart(fg.bpc_figure(rows), key="seq:ng:bpc")
            st.markdown("**Samples** (temperature 1, the same prompt, 200 characters each):")
            g = torch.Generator().manual_seed(int(st.session_state.get("seq:ng:seed", 0)))
            for o in sorted(models):
                txt, _ = sq.sample_text(models[o], "the ", 200, 1.0, g)
                st.markdown(f"*order {o}:* `the {txt}`")
            st.button("New samples", key="seq:ng:new", on_click=lambda: st.session_state.update(
                {"seq:ng:seed": int(st.session_state.get("seq:ng:seed", 0)) + 1}))
        st.subheader("Sample from one order")
        sampler("seq:ng:s", models.get(order) or T.NGram(order, k).fit(T.corpus("lee")[0]))

    elif part == PARTS[1]:
        char_part("rnn")

    elif part == PARTS[3]:
        char_part("lstm")

    elif part == PARTS[2]:
        st.markdown("Backpropagation through time multiplies the error by the recurrent Jacobian once per step "
                    "back. With tanh and small weights each factor shrinks it, so the loss at the end hardly "
                    "reaches the inputs 30 steps earlier: the net cannot learn long dependencies. ReLU with the "
                    "identity as W keeps the product near 1; the LSTM's memory cell passes it on through f_t.")
        st.latex(r"\frac{\partial L_T}{\partial s_{T-k}}=\frac{\partial L_T}{\partial s_T}\prod_{j=T-k+1}^{T}"
                 r"\frac{\partial s_j}{\partial s_{j-1}},\qquad \frac{\partial s_j}{\partial s_{j-1}}="
                 r"\mathrm{diag}\big(f'(\cdot)\big)\,W")
        curves = _gradients()
        st.plotly_chart(fg.gradient_figure(curves), key="seq:grad:fig")
        m = st.columns(len(curves))
        for col, (nm, g) in zip(m, curves.items()):
            col.metric(f"k = 30: {nm}", f"{g[30] / g[0]:.1e}", help="||dL_T/ds_T-30|| / ||dL_T/ds_T||, averaged "
                       "over 32 validation windows (for the LSTM, s = (h, c)).")
        r = {nm: g[30] / g[0] for nm, g in curves.items()}
        st.caption(f"Untrained, at k = 30: the LSTM passes back {r['LSTM, untrained'] / r['tanh RNN, untrained']:.0e} "
                   f"times more than the tanh RNN. Trained on the news text the two end close together "
                   f"({r['LSTM, trained (shipped)']:.0e} vs {r['tanh RNN, trained (shipped)']:.0e}): predicting "
                   "the next character rarely needs more than the last word or two, so the trained LSTM learned to "
                   "forget quickly. The copy task below needs a long memory.")
        st.subheader("Remember the first symbol")
        st.markdown("Each sequence starts with one of 8 symbols, then `delay` random distractors, then a *go* "
                    "signal: the net must now name the first symbol. Only the last output is scored, so the "
                    "whole learning signal has to travel back `delay` + 1 steps.")
        c = st.columns(3)
        arch = c[0].radio("Network", ["rnn", "lstm"], horizontal=True, key="seq:copy:arch",
                          format_func={"rnn": "vanilla RNN (tanh)", "lstm": "LSTM"}.get)
        delay = c[1].number_input("Delay", 1, 10_000, 20, key="seq:copy:delay", help=f"1 to {sq.rnn.MAX_DELAY}.")
        fbias = c[2].select_slider("LSTM forget-gate bias at the start", [0.0, 1.0, 2.0, 3.0, 5.0], 1.0,
                                   key="seq:copy:fb", disabled=arch != "lstm",
                                   help="sigma(bias) is how much of its cell the LSTM keeps per step before "
                                        "training: 0.73 for bias 1, 0.95 for bias 3.")
        cfg = sq.CopyConfig(arch=arch, delay=int(delay), forget_bias=float(fbias) if arch == "lstm" else 1.0)
        trainer = training_panel("seq:copy:train", sq.make_task, config=cfg,
                                 steps=PART_BUDGETS["copy"][0], seconds=PART_BUDGETS["copy"][1], record_every=10,
                                 panels={"loss": ["loss"], "training accuracy": ["accuracy"]})
        share.code_behind("seq:copy:train", sq.make_task, cfg,
                          command='train copy-task', steps=PART_BUDGETS["copy"][0],
                          seconds=PART_BUDGETS["copy"][1], title='Sequences and autoregressive models')
        sweep = _shipped("seq_copy_lstm_d20")[2].get("sweep", {})
        live_pts = {}
        if trainer is not None and trainer.steps > 0:
            acc = trainer.last_eval.get("accuracy") or sq.copy_accuracy(trainer.task.model, int(delay))
            live_pts[f"yours: {arch}, {trainer.steps:,} steps"] = (int(delay), acc)
            st.metric(f"Your {arch.upper()}: accuracy at delay {delay} (1,000 fresh sequences)", f"{acc:.1%}")
            _download(trainer, f"copy_{arch}_d{delay}")
        st.plotly_chart(fg.copy_figure(sweep, live_pts), key="seq:copy:fig")
        st.caption("Lines: RNN and LSTM (forget-gate bias 1) trained afresh at each delay for 1,500 Adam steps "
                   "(measured by `python -m dlplay pretrain sequences`, seed 0). Stars: models you trained here.")
        if sweep:
            longest = max(int(k.split("_d")[1]) for k in sweep)
            st.markdown(
                f"What the measurement says, honestly: at delay 20 both nets learn the task "
                f"(RNN {sweep.get('rnn_d20', 0):.0%}, LSTM {sweep.get('lstm_d20', 0):.0%}): Adam rescales even a "
                f"tiny gradient to a full-sized step, which rescues the RNN on this short gap. At delay {longest} "
                f"the RNN gets {sweep.get(f'rnn_d{longest}', 0):.0%} and the LSTM started with forget-gate bias 1 "
                f"{sweep.get(f'lstm_d{longest}', 0):.0%} after the same 1,500 steps (chance is 12.5%): its cell "
                "keeps only sigma(1) = 73% per step at first, 0.73^30 = 0.01%, so it too must first learn to "
                "remember. Train the LSTM with bias 3 to see the remedy.")

    elif part == PARTS[4]:
        st.markdown("An encoder reads a string of digits; a decoder writes it reversed. Without attention the "
                    "decoder starts from the encoder's last state only: the whole string must squeeze through one "
                    "vector, and long strings fail. With attention, before each output the decoder scores every "
                    "encoder state, takes a softmax, and reads their weighted average: for a reversal it learns "
                    "to look at input n + 1 - t, an anti-diagonal.")
        st.latex(r"e_{ti}=v^\top\tanh(W_a s_{t-1}+U_a h_i),\quad a_{ti}=\frac{e^{e_{ti}}}{\sum_j e^{e_{tj}}},\quad"
                 r" c_t=\sum_i a_{ti}h_i")
        c = st.columns(2)
        att = c[0].checkbox("With attention", True, key="seq:rev:att")
        max_len = c[1].slider("Train on strings of 1 to ... digits", 2, sq.seq2seq.MAX_LEN, 10, key="seq:rev:len")
        trainer = training_panel("seq:rev:train", sq.make_task, config=sq.ReverseConfig(attention=att,
                                 max_len=max_len), steps=PART_BUDGETS["rev"][0],
                                 seconds=PART_BUDGETS["rev"][1], record_every=10,
                                 panels={"loss": ["loss"], "token accuracy (teacher forcing)": ["token_accuracy"]})
        share.code_behind("seq:rev:train", sq.make_task, sq.ReverseConfig(attention=att,
                                 max_len=max_len),
                          command='train reverse', steps=PART_BUDGETS["rev"][0],
                          seconds=PART_BUDGETS["rev"][1], title='Sequences and autoregressive models')
        lengths = tuple(range(1, 15))
        curves = _length_curves(lengths)
        mine = trainer is not None and trainer.steps > 0
        if mine:
            curves = {**curves, f"yours ({'attention' if att else 'no attention'})":
                      [sq.seq2seq.exact_match(trainer.task.model, n, 300) for n in lengths]}
            _download(trainer, "reverse")
        st.plotly_chart(fg.length_figure(lengths, curves, 10 if not mine else max_len), key="seq:rev:fig")
        s = st.text_input("Digits to reverse", "271828182845", key="seq:rev:x",
                          help=f"Only the digits 0-9, at most {sq.seq2seq.MAX_LEN}.")
        x = s.strip()
        if not x or not x.isdigit() or not x.isascii():
            raise InputError("Type only digits 0-9 (no spaces or letters), for example 31415926.")
        if len(x) > sq.seq2seq.MAX_LEN:
            raise InputError(f"That is {len(x)} digits; the limit is {sq.seq2seq.MAX_LEN}.")
        xt = torch.tensor([[int(ch) for ch in x]])
        show = {"with attention": _shipped("seq_reverse_attention")[0],
                "no attention": _shipped("seq_reverse_plain")[0]}
        if mine:
            show = {"yours": trainer.task.model, **show}
        cols = st.columns(len(show))
        for col, (nm, mdl) in zip(cols, show.items()):
            out, a = mdl.greedy(xt.to(mdl.out.weight.device), len(x) + 1)
            digits = "".join(str(int(v)) if v < 10 else "" for v in out[0].cpu())
            col.metric(f"{nm}: output", digits or "(nothing)", delta="correct" if digits == x[::-1] else "wrong",
                       delta_color="normal" if digits == x[::-1] else "inverse")
        mdl = show["yours"] if mine and trainer.task.model.attention else show["with attention"]
        out, a = mdl.greedy(xt.to(mdl.out.weight.device), len(x) + 1)
        labels = "".join(str(int(v)) if v < 10 else "⏹" for v in out[0].cpu())
        st.plotly_chart(fg.attention_figure(a[0].cpu().numpy(), x, labels), key="seq:rev:heat")
        st.caption("Row t: the attention weights the decoder used before writing output t (⏹ = end of string).")

    elif part == PARTS[5]:
        st.markdown("The same chain rule over the 64 pixels of a binarised digit, read row by row: a PixelCNN "
                    "predicts each pixel from the ones above and to the left, through convolutions masked so "
                    "they never see the pixel itself or later ones. The product of its 64 predictions is the "
                    "exact probability of the image; the VAE only gives a lower bound (the ELBO). The price: "
                    "a sample takes 64 network passes, one per pixel, and there is no latent code to walk in.")
        st.latex(r"-\log p(x)=-\sum_{i=1}^{64}\log p(x_i\mid x_1,\dots,x_{i-1})\quad\text{(exact)}\qquad"
                 r"-\log p(x)\le-\mathrm{ELBO}(x)\quad\text{(VAE)}")
        c = st.columns(2)
        ch = c[0].select_slider("Channels", [16, 32, 64, 128], 64, key="seq:pix:ch")
        layers = c[1].slider("Masked layers", 2, 8, 5, key="seq:pix:layers")
        trainer = training_panel("seq:pix:train", sq.make_task, config=sq.PixelConfig(channels=ch, layers=layers),
                                 steps=PART_BUDGETS["pix"][0], seconds=PART_BUDGETS["pix"][1], record_every=10,
                                 panels={"training -log p(x), nats per image": ["train_nll_nats"]})
        share.code_behind("seq:pix:train", sq.make_task, sq.PixelConfig(channels=ch, layers=layers),
                          command='train pixelcnn', steps=PART_BUDGETS["pix"][0],
                          seconds=PART_BUDGETS["pix"][1], title='Sequences and autoregressive models')
        model, ev, who = _model_shown(trainer, "seq_pixelcnn_digits", "PixelCNN")
        _download(trainer, "pixelcnn")
        extra = _shipped("seq_pixelcnn_digits")[2]
        rows = {f"PixelCNN ({who})": ev["test_nll_nats"], "VAE, 2-D code (-ELBO)": extra["vae2_test_neg_elbo"],
                "VAE, 16-D code (-ELBO)": extra["vae16_test_neg_elbo"]}
        st.plotly_chart(fg.likelihood_figure(rows), key="seq:pix:ll")
        st.caption("All three on the same 360 binarised test digits; the VAEs are the VAE page's network trained "
                   "on the same binarised training digits for the same 3,000 steps.")
        n_show = st.slider("Digits to draw", 4, 64, 16, 4, key="seq:pix:n")
        if st.button("Draw pixel by pixel", key="seq:pix:draw", type="primary"):
            box = st.empty()
            g = torch.Generator().manual_seed(int(time.time()) % 2**31)
            for i, x, _ in model.sample_steps(int(n_show), g, every=4):
                box.image(viz.tile(x, 16, pad=1, pad_value=0.4), width=min(800, 50 * min(16, int(n_show))),
                          caption=f"{i} of 64 pixels drawn")
            st.session_state["seq:pix:last"] = x
        if "seq:pix:last" in st.session_state:
            image_grid(st.session_state["seq:pix:last"], key="seq:pix:grid", ncols=16, download_name="pixelcnn.png",
                       caption="The last digits drawn.")
        m = st.columns(3)
        m[0].metric("Shipped model: 500 samples judged digits", f"{extra['judged_digits']:.0%}",
                    help="The project's digit classifier (with a 'not a digit' class) gives some digit p > 0.5.")
        if st.button("Time 100 samples: PixelCNN vs VAE", key="seq:pix:time"):
            st.session_state["seq:pix:times"] = (sq.time_pixel_samples(model),
                                                 sq.time_vae_samples(_vae()))
        t = st.session_state.get("seq:pix:times")
        if t:
            m[1].metric("100 PixelCNN samples (64 passes)", f"{t[0]:.2f} s")
            m[2].metric("100 VAE samples (one decoder pass)", f"{t[1] * 1000:.1f} ms", help=f"{t[0] / t[1]:.0f}x "
                        "faster: the VAE decodes all pixels at once.")
