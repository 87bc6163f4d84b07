// A table wider than the screen scrolls sideways inside its box (the page itself never does).
// On a phone that is easy to miss, so the box says so above the table, and the first column
// (what each row is) stays in view while the rest scrolls (book.css, .scrolls-sideways).
function markWideTables() {
  for (const table of document.querySelectorAll("article table")) {
    const box = table.parentElement;
    const wide = box.scrollWidth > box.clientWidth + 1;
    cueAbove(box, wide, "This table is wider than the screen: scroll it sideways →");
    box.classList.toggle("scrolls-sideways", wide);
  }
}
// The cue above a box that scrolls sideways: added where it scrolls, removed where it no
// longer does (a window made wider).
function cueAbove(box, wide, text) {
  const cue = box.previousElementSibling;
  const hasCue = cue !== null && cue.classList.contains("scroll-cue");
  if (wide && !hasCue) {
    const note = document.createElement("p");
    note.className = "scroll-cue";
    note.textContent = text;
    box.before(note);
  } else if (!wide && hasCue) {
    cue.remove();
  }
}
// A cell holding one token too long for any column (a test name, a file path) may break inside
// it when printed; every other word stays whole (book.css, .long-token).
const LONG_TOKEN = /\S{25,}/;
function markLongTokens() {
  for (const cell of document.querySelectorAll("article td, article th")) {
    if (LONG_TOKEN.test(cell.textContent)) cell.classList.add("long-token");
  }
}
document.addEventListener("DOMContentLoaded", markLongTokens);

// A table of eight columns or more is printed on a landscape page of its own (book.css), where
// its words fit whole.
const LANDSCAPE_COLUMNS = 8;
function markLandscapeTables() {
  for (const table of document.querySelectorAll("article table")) {
    const columns = Math.max(...[...table.rows].map((row) => row.cells.length), 0);
    if (columns >= LANDSCAPE_COLUMNS) table.parentElement.classList.add("print-landscape");
  }
}
document.addEventListener("DOMContentLoaded", markLandscapeTables);
document.addEventListener("DOMContentLoaded", markWideTables);
window.addEventListener("resize", markWideTables);

// The theme keeps every table whole on paper; a table of more rows than a third of a page
// then leaves most of a page blank before it (a calendar's 63 rows under its heading). Such a
// table may break between rows (book.css, .breaks-across-pages), its header repeated on each
// page; a short one stays whole.
const ROWS_KEPT_WHOLE = 15;
function markLongTables() {
  for (const table of document.querySelectorAll("article table")) {
    if (table.rows.length > ROWS_KEPT_WHOLE) table.classList.add("breaks-across-pages");
  }
}
document.addEventListener("DOMContentLoaded", markLongTables);

// A figure drawn for a page's width (the trial schema, the exposure chart) shrinks on a phone
// until its words are too small to read. Below MIN_SCALE of its drawn size it is kept at that
// scale in a box of its own that scrolls sideways, with the same cue as a wide table; the
// caption stays under it at the screen's width. On paper it fits the page again (book.css).
const MIN_SCALE = 0.75;
const NARROW_SCREEN = 768; // px: the theme's breakpoint for phones
function markWideFigures() {
  for (const image of document.querySelectorAll("article figure img, article .cell_output img")) {
    if (!image.naturalWidth) continue; // not loaded yet: the window's load event comes back
    let box = image.parentElement;
    if (!box.classList.contains("figure-scroll")) {
      box = document.createElement("div");
      box.className = "figure-scroll";
      image.before(box);
      box.append(image);
    }
    const readable = image.naturalWidth * MIN_SCALE;
    // on a phone or a narrow window only: a desktop's column shrinks a figure less than its
    // words can bear (a 900 px chart in a 660 px column reads well)
    const wide = window.innerWidth < NARROW_SCREEN && box.clientWidth < readable;
    image.style.width = wide ? `${Math.round(readable)}px` : "";
    image.style.maxWidth = wide ? "none" : "";
    cueAbove(box, wide, "This figure is wider than the screen: scroll it sideways →");
    box.classList.toggle("figure-scrolls", wide);
    // a box that scrolls can be reached and scrolled from the keyboard, and says what it is
    if (wide) {
      box.tabIndex = 0;
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", "Figure, wider than the screen: scroll sideways");
    } else {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }
}
window.addEventListener("load", markWideFigures);
window.addEventListener("resize", markWideFigures);
