// Marks that JavaScript runs, so the USWDS mobile menu is used; without it the nav stays visible.
document.documentElement.classList.remove("no-js");
