// The app's own SVG map (web/map.py): zoom buttons, wheel and drag to pan; a click fires
// "map-pick" with GCJ-02 {lon, lat}; a marker with data-href opens it, others fire "map-marker".
"use strict";
(function () {
  const R = 6378137;
  function toLonLat(x, y) {
    const lon = (x / R) * 180 / Math.PI;
    const lat = (2 * Math.atan(Math.exp(-y / R)) - Math.PI / 2) * 180 / Math.PI;
    return { lon, lat };
  }
  function box(svg) { return svg.getAttribute("viewBox").split(/\s+/).map(Number); }
  function setBox(svg, b) { svg.setAttribute("viewBox", b.map((v) => v.toFixed(0)).join(" ")); }
  function zoom(svg, factor, cx, cy) {
    const b = box(svg);
    const x = cx === undefined ? b[0] + b[2] / 2 : cx, y = cy === undefined ? b[1] + b[3] / 2 : cy;
    setBox(svg, [x - (x - b[0]) * factor, y - (y - b[1]) * factor, b[2] * factor, b[3] * factor]);
  }
  function svgPoint(svg, event) {
    const p = svg.createSVGPoint(); p.x = event.clientX; p.y = event.clientY;
    return p.matrixTransform(svg.getScreenCTM().inverse());
  }
  function attach(svg) {
    let drag = null, moved = false;
    svg.addEventListener("pointerdown", (e) => { drag = { x: e.clientX, y: e.clientY, b: box(svg) }; moved = false; });
    svg.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) moved = true;
      if (!moved) return;
      const scale = drag.b[2] / svg.clientWidth;
      setBox(svg, [drag.b[0] - dx * scale, drag.b[1] - dy * scale, drag.b[2], drag.b[3]]);
    });
    svg.addEventListener("pointerup", () => { drag = null; });
    svg.addEventListener("wheel", (e) => { e.preventDefault(); const p = svgPoint(svg, e); zoom(svg, e.deltaY > 0 ? 1.25 : 0.8, p.x, p.y); }, { passive: false });
    svg.addEventListener("click", (e) => {
      if (moved) return;
      const marker = e.target.closest(".marker");
      if (marker) {
        if (marker.dataset.href) { window.location.href = marker.dataset.href; return; }
        svg.dispatchEvent(new CustomEvent("map-marker", { bubbles: true, detail: { code: marker.dataset.code } }));
        return;
      }
      if (!svg.classList.contains("pickable")) return;
      const p = svgPoint(svg, e);
      svg.dispatchEvent(new CustomEvent("map-pick", { bubbles: true, detail: toLonLat(p.x, p.y) }));
    });
  }
  document.querySelectorAll("svg.map").forEach(attach);
  document.querySelectorAll("button.map-zoom").forEach((button) => {
    button.addEventListener("click", () => zoom(document.getElementById(button.dataset.map), Number(button.dataset.zoom)));
  });
  window.parkshareMap = { toLonLat };
})();
