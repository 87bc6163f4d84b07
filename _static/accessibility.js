// Accessibility repairs of the theme's markup, found by axe-core in the browser test.
//
// - A button's accessible name must contain the text it shows (WCAG 2.5.3, label in name): the
//   search field shows "Search Ctrl+K" but is named "Search", so its label goes and it is named
//   by what it shows;
//   the icons inside the theme's icon buttons are decoration, hidden from assistive technology.
// - The references list is role="list" whose entries carry the deprecated DPUB role
//   doc-biblioentry, which is no list item: each entry becomes a list item.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[aria-label]")) {
    for (const icon of button.querySelectorAll("i, span.fa-solid, span.fa-regular")) {
      icon.setAttribute("aria-hidden", "true");
    }
    if (button.innerText.trim()) button.removeAttribute("aria-label");
  }
  for (const entry of document.querySelectorAll('.citation-list > [role="doc-biblioentry"]')) {
    entry.setAttribute("role", "listitem");
  }
});
