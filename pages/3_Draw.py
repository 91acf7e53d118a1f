"""Draw page: draw a digit and let a trained run's classifier read it."""
from __future__ import annotations

import gc

import numpy as np
import streamlit as st
from PIL import Image
from threadpoolctl import threadpool_limits

from sgan_core.reading import committee
from sgan_core.reading.committee import CommitteeModel
from sgan_core.reading.predict import SHIPPED_MODEL_DIR, ModelLoadError, RunModel, model_version
from sgan_core.runs.rundir import RunDir, RunSummary
from sgan_ui.charts import probabilities_figure
from sgan_ui.common import (
    PLOTLY_CONFIG,
    as_number,
    fmt_acc,
    phone_layout,
    plain,
    readable,
    run_from_id,
    run_label,
    runs,
    runs_dir,
    unreadable_note,
)
from sgan_ui.fast_canvas import st_canvas
from sgan_ui.navigation import through_app

through_app()
phone_layout()
st.title("Draw a digit")

SHIPPED = "shipped demo model"


@st.cache_resource(max_entries=32, show_spinner="Loading the model…")
def load_model(path: str, version: float) -> RunModel | str:
    """The model, or the sentence saying why it cannot be loaded (a failure is cached too, so a
    broken file is not re-read on every stroke). Cached per file version, so a run that is
    still training is re-read when it saves."""
    try:
        model = RunModel(RunDir(path))
    except ModelLoadError as e:
        return str(e)
    except Exception as e:  # a file that loads but cannot run (its layers, its shapes)
        return f"{RunDir(path).id}: the model cannot read a drawing ({type(e).__name__})."
    probabilities_figure(np.full(10, 0.1)).to_json()  # plotly's first figure costs ~0.5 s
    # The page's long-lived objects (plotly, the models' weights) would otherwise be walked by
    # every full garbage collection (200-400 ms, measured when Keras was loaded here), stalling
    # the reply to a stroke. Frozen objects are skipped by later collections.
    gc.collect()
    gc.freeze()
    # A stroke's arrays are small: BLAS worker threads cost more than they save, waiting for a
    # core while the browser and this server share the CPU (preprocessing and prediction of a
    # stroke took 6-57 ms with two threads, 7-15 ms with one). Process-wide, but nothing else
    # in this server needs BLAS threads.
    threadpool_limits(limits=1, user_api="blas")
    return model


def best_first(r: RunSummary) -> tuple:
    """Sort key: finished runs before the others, each by test accuracy, highest first."""
    return (r.state != "finished", -as_number(r.test_acc))


def usable_runs(all_runs: list[RunSummary]) -> list[RunSummary]:
    """Every readable run with a classifier, best finished run first."""
    return sorted((r for r in readable(all_runs) if r.has_classifier), key=best_first)


def model_choices(usable: list[RunSummary]) -> dict[str, str]:
    """Label -> run id of every run with a classifier, the shipped model among them; first the
    most accurate finished model, so a weak local run never hides the shipped 99% one."""
    shipped = RunDir(SHIPPED_MODEL_DIR)
    ranked = [(r, run_label(r), r.id) for r in usable]
    if shipped.classifier_path.is_file():
        ranked.append((shipped.summary(), SHIPPED, SHIPPED))
    ranked.sort(key=lambda t: best_first(t[0]))
    return {label: run_id for _, label, run_id in ranked}


all_runs = runs()  # read once per page run: each run's files are opened
usable = usable_runs(all_runs)
choices = model_choices(usable)
if not choices:
    st.error("No trained model yet, and the shipped demo model is missing.")
    st.markdown("[Train a model on the Train page](Train)")
    st.stop()


def clear_marker(clears: int) -> dict:
    """An invisible, empty object that the emptied canvas holds: it makes the drawing after each
    Clear differ from the one before, even when the same stroke is drawn again."""
    return {"type": "rect", "left": clears, "top": 0, "width": 0, "height": 0, "opacity": 0,
            "fill": "", "stroke": "", "strokeWidth": 0, "selectable": False, "evented": False}


def clear_canvas():
    """Empty the canvas in place. Remounting it under a new key (the old way) lost the first
    stroke after Clear in about one browser run in three."""
    st.session_state["canvas_clears"] = st.session_state.get("canvas_clears", 0) + 1
    # the canvas reports its emptied drawing a moment later; until then it still holds the old one
    st.session_state["cleared_drawing"] = st.session_state.get("drawing_seen")


def committee_choices(run: RunDir, usable: list[RunSummary]) -> dict[str, str]:
    """Label -> id of the other runs trained on the same labeled images as `run`."""
    if run.path == RunDir(SHIPPED_MODEL_DIR).path:
        return {}
    cfg = run.read_config()
    group = committee.label_groups(usable).get((cfg.get("labels"), cfg.get("seed")), [])
    return {run_label(r): r.id for r in group if r.id != run.id}


def model_for(members: list[RunDir]):
    """The members' model (a committee for several), or the sentence saying why one of them
    cannot be loaded."""
    models = [load_model(str(r.path), model_version(r)) for r in members]
    broken = next((m for m in models if isinstance(m, str)), None)
    if broken:
        return broken
    return models[0] if len(models) == 1 else CommitteeModel(models)


def choice_run(run_id: str) -> RunDir:
    """The run directory of a model choice (listed by us: no lookup needed)."""
    return RunDir(SHIPPED_MODEL_DIR if run_id == SHIPPED else runs_dir() / run_id)


def first_loadable(choices: dict[str, str]) -> int:
    """Index of the first choice whose model loads: a broken file is never the default (when
    none loads, the first is shown with its reason)."""
    for i, run_id in enumerate(choices.values()):
        run = choice_run(run_id)
        if not isinstance(load_model(str(run.path), model_version(run)), str):
            return i
    return 0


@st.fragment
def draw_and_predict(members: list[RunDir], width: int):
    """Canvas and prediction rerun alone on each stroke, not the whole page; the controls stay
    outside, so a stroke redraws as little as possible."""
    left, right = st.columns([1, 1], gap="large")
    with left:
        # on a phone the columns stack: the answer also shows here, above the canvas, so it
        # is on screen after every stroke (hidden on wider screens, see PHONE_CSS)
        phone_prediction = st.container(key="phone_prediction")
        clears = st.session_state.get("canvas_clears", 0)
        # a new initial drawing (the counter makes it new) empties the same canvas in place
        canvas = st_canvas(stroke_width=width, stroke_color="#FFFFFF",
                           background_color="#000000", height=280, width=280,
                           drawing_mode="freedraw", return_image_data=True,
                           initial_drawing={"objects": [clear_marker(clears)]} if clears
                           else None, key="canvas")
    with right:
        model = model_for(members)
        if isinstance(model, str):
            st.error(f"This model cannot be used: {plain(model)} Pick another model.")
            return
        seen = st.session_state["drawing_seen"] = (canvas.json_data or {}).get("objects", [])
        image = None if seen == st.session_state.get("cleared_drawing") else canvas.image_data
        prediction = model.predict_drawing(image) if image is not None else None
        show_prediction(prediction)
        if isinstance(model, CommitteeModel):
            show_members(model, prediction is not None)
        else:
            st.caption(f"Model: {model.cfg.variant} · {model.cfg.labels} labels · "
                       f"{model.cfg.preset} preset · {model.run.id}")
    if prediction is None:
        phone_prediction.caption("Draw a digit below: its reading shows here.")
    else:
        p = prediction.probabilities[prediction.digit]
        phone_prediction.markdown(f"Reads **{prediction.digit}**, {p:.0%} confident")


def show_members(model: CommitteeModel, drawn: bool):
    """Each member's own reading under the committee's."""
    rows = []
    for i, member in enumerate(model.members):
        row = {"run": member.run.id, "variant": member.cfg.variant, "preset": member.cfg.preset}
        if drawn:
            p = model.member_predictions[i]
            row.update(reads=p.digit, confidence=f"{p.probabilities[p.digit]:.1%}")
        rows.append(row)
    st.caption(f"Committee of {len(rows)} runs on the same {model.members[0].cfg.labels} "
               "labels: the chart shows the mean of their probabilities.")
    st.dataframe(rows, hide_index=True)


# What the percentage is, and is not. (A "looks like real handwriting" score from the GAN's
# real/fake output was shown here once: the trained discriminator gives a bare line, a box or
# a cross as high a score as real test digits, so it said nothing about the drawing.)
ALWAYS_A_DIGIT = ("It always answers with one of the ten digits, even for a scribble: the "
                  "percentage says how sure it is which digit, not whether this is a digit.")


def show_prediction(prediction):
    """The same elements with or without a drawing, so the layout never jumps and the chart
    is already mounted when the first stroke arrives."""
    c1, c2 = st.columns([1, 1])
    if prediction is None:
        c1.metric("Prediction", "–")
        c1.info("Draw a digit on the canvas.")
        seen, p = np.zeros((28, 28), np.uint8), np.zeros(10)
    else:
        p, seen = prediction.probabilities, prediction.model_input
        c1.metric("Prediction", str(prediction.digit))
        c1.caption(f"{p[prediction.digit]:.0%} sure it is a {prediction.digit}")
        c1.caption(ALWAYS_A_DIGIT)
    big = Image.fromarray(seen).resize((196, 196), Image.Resampling.NEAREST)
    c2.image(big, caption="What the model sees: 28×28, centred by centre of mass")
    st.plotly_chart(probabilities_figure(p), key="probs", config=PLOTLY_CONFIG)


unreadable_note(all_runs)
choice = st.selectbox("Model", list(choices), index=first_loadable(choices),
                      help="Any run with a saved classifier. A run that is still training is "
                           "read at its latest checkpoint.")
if choice == SHIPPED:
    run = choice_run(SHIPPED)
    shipped = run.summary()
    st.container(key="model_note").caption(
               f"The classifier shipped with SGAN Lab, so this page works before anything was "
               f"trained: preset `{shipped.preset}`, variant `{shipped.variant}`, "
               f"{shipped.labels} labeled images, {shipped.step:,} steps; "
               f"{fmt_acc(shipped.test_acc)} of the MNIST test set. Train your own on the "
               "Train page.")
else:
    run = run_from_id(choices[choice])
if run is None:
    st.stop()
members = [run]
others = committee_choices(run, usable)
if others:
    extra = st.multiselect(
        "Read together with", list(others),
        help="Other runs trained on the same labeled images (label budget and seed). The "
             "committee's answer is the mean of their probabilities: runs trained differently "
             "can make different mistakes (the Compare page measures a committee).")
    members += [r for r in (run_from_id(others[label]) for label in extra) if r is not None]
with st.container(key="draw_controls"):  # as wide as the canvas's column (PHONE_CSS)
    st.container(key="draw_hint").caption(
        "Draw one digit, large, in the middle. White ink on black, like MNIST.")
    slider_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    width = slider_col.slider("Stroke width", 8, 40, 22)
    button_col.button("Clear", icon=":material/ink_eraser:", on_click=clear_canvas,
                      width="stretch")
# room for the canvas's own toolbar, which floats above its top edge (on a phone, the room
# under the reading shown above the canvas: PHONE_CSS)
st.container(key="canvas_room").space(24)
draw_and_predict(members, width)
