// Keys for the Teach page's labeling grid (sgan_ui/label_keys.py): 0-9 files the current image
// (the first without an answer) under that digit, s skips it, u takes back the last answer.
// A key clicks the very pill a tap would, so the answer shows at once and is saved the same way.
// data: {rows: [[image index, CSS class of its pills], ...], order: [index answered, ...]}.

// where a key types (a toggle or a checkbox is an <input> too, and does not)
const NOT_TYPED = ["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"];

function pills(cls) {
  return document.querySelector(`.${cls}`);
}

function chosen(group) {
  return group.querySelector("button[aria-checked='true'], button[aria-pressed='true']");
}

function pill(group, text) {
  return [...group.querySelectorAll("button")].find((b) => b.innerText.trim() === text);
}

function typing(event) {
  const target = event.composedPath()[0];
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable || target.matches("textarea, select")) return true;
  return target.matches("input") && !NOT_TYPED.includes(target.type);
}

function onKey(event, state) {
  if (event.repeat || event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
  const key = event.key.toLowerCase();
  if (!/^[0-9su]$/.test(key)) return;
  const rows = state.rows.map(([i, cls]) => [i, pills(cls)]).filter(([, group]) => group);
  // both tabs with a grid listen: only the grid on screen answers
  if (!rows.length || !rows[0][1].checkVisibility()) return;
  event.preventDefault();
  if (key === "u") {
    // the last answer still shown: the order the server saved, then this page's own keys
    while (state.order.length) {
      const last = state.order.pop();
      const row = rows.find(([i]) => i === last);
      const on = row && chosen(row[1]);
      if (on) {
        on.click();  // a second tap on a chosen pill takes it back
        return;
      }
    }
    return;
  }
  const open = rows.find(([, group]) => !chosen(group));
  const button = open && pill(open[1], key === "s" ? "skip" : key);
  if (button) {
    button.click();
    state.order = state.order.filter((i) => i !== open[0]).concat([open[0]]);
  }
}

export default function ({ data, parentElement }) {
  // called again with each rerun's data, without a cleanup in between: one listener a mount
  let state = parentElement.__labelKeys;
  if (!state) {
    state = { rows: [], order: [] };
    const listener = (event) => onKey(event, state);
    document.addEventListener("keydown", listener);
    state.stop = () => document.removeEventListener("keydown", listener);
    parentElement.__labelKeys = state;
  }
  state.rows = data.rows;
  state.order = [...data.order];
  return () => {
    state.stop();
    delete parentElement.__labelKeys;
  };
}
