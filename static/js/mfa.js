// After a security key or passkey is added on the sign-in security page, go on to the next step
// (recovery codes the first time). django-otp-webauthn's script fires the event.
document.addEventListener("otp_webauthn.register_complete", function (event) {
  var button = event.target.closest ? event.target.closest("[data-after]") : null;
  if (button) {
    window.location.assign(button.getAttribute("data-after"));
  }
});
