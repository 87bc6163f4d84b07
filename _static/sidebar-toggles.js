// The menu (☰) and page-contents buttons on phones and tablets.
//
// pydata-sphinx-theme 0.17 attaches its "open the sidebar" handler to the first element with
// class primary-toggle (and secondary-toggle) in the page. With sphinx-book-theme there are two
// of each, and the first, in the top navigation bar, is the one this layout hides, so the
// visible button in the article header did nothing (pydata/pydata-sphinx-theme#2451). Each
// other button forwards its click to the one that holds the handlers, so both themes' handlers
// run as they would on that button: the dialog on narrow screens, collapsing on wide ones.
document.addEventListener("DOMContentLoaded", () => {
  for (const kind of ["primary", "secondary"]) {
    const [bound, ...others] = document.querySelectorAll(`.${kind}-toggle`);
    for (const button of others) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        bound.click();
      });
    }
  }
});
