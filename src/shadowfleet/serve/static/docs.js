// Renders openapi.json as a plain page (text only: descriptions are never parsed as HTML).
const el = (tag, text) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e; };

const spec = await (await fetch("/api/v1/openapi.json")).json();
document.getElementById("version").textContent = spec.info.version;
const out = document.getElementById("paths");
for (const [path, ops] of Object.entries(spec.paths)) {
  for (const [method, op] of Object.entries(ops)) {
    const sec = el("section");
    sec.className = "op";
    const h = el("h2");
    h.append(el("span", method.toUpperCase()), " ", el("code", "/api/v1" + path.replace(/^\/api\/v1/, "")));
    sec.append(h, el("p", op.summary || ""));
    const params = op.parameters || [];
    if (params.length) {
      const t = el("table");
      const head = el("tr");
      for (const c of ["parameter", "in", "required", "description"]) head.append(el("th", c));
      t.append(head);
      for (const p of params) {
        const tr = el("tr");
        tr.append(el("td", p.name), el("td", p.in), el("td", p.required ? "yes" : ""),
                  el("td", p.description || (p.schema && p.schema.description) || ""));
        t.append(tr);
      }
      sec.append(t);
    }
    out.append(sec);
  }
}
