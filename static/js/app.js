// Marks that JavaScript runs, so the USWDS mobile menu is used; without it the nav stays visible.
document.documentElement.classList.remove("no-js");

// After htmx swaps in a review-board row, move focus to its message (saved, or the errors) so
// keyboard and screen-reader users know what happened and stay where they were.
document.addEventListener("htmx:afterSettle", function () {
  var target = document.querySelector("[data-focus-after-swap]");
  if (target) {
    target.removeAttribute("data-focus-after-swap");
    target.focus();
  }
});
