// Optional drawn signature on the sign-off form: pointer events on a canvas, written to
// the hidden `signature` field as a PNG data URL when the form is sent. The typed name
// and the consent box are what the sign-off needs; the drawing is a welcome extra.
(function () {
  const canvas = document.getElementById("signature-pad");
  if (!canvas) return;
  const form = canvas.closest("form");
  const field = form.querySelector("input[name=signature]");
  const ctx = canvas.getContext("2d");
  let drawing = false;
  let drawn = false;
  ctx.lineWidth = 2.5;
  ctx.lineCap = "round";
  ctx.strokeStyle = "#1b1f24";

  function point(event) {
    const box = canvas.getBoundingClientRect();
    return {
      x: (event.clientX - box.left) * (canvas.width / box.width),
      y: (event.clientY - box.top) * (canvas.height / box.height),
    };
  }
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const p = point(event);
    ctx.beginPath();
    ctx.moveTo(p.x, p.y);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const p = point(event);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    drawn = true;
  });
  ["pointerup", "pointercancel", "pointerleave"].forEach((name) =>
    canvas.addEventListener(name, () => { drawing = false; })
  );
  document.getElementById("signature-clear").addEventListener("click", () => {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    drawn = false;
  });
  form.addEventListener("submit", () => {
    field.value = drawn ? canvas.toDataURL("image/png") : "";
  });
})();
