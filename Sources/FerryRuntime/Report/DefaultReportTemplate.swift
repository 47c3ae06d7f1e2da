/// The built-in page template of `ferry report` (compiled in, so an installed binary needs no resource
/// files). `ferry report --print-template` prints it as a starting point for `--template FILE`;
/// docs/report-template.md lists its variables.
public enum DefaultReportTemplate {
    /// The mustache text of the built-in template.
    public static let text = #"""
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="generator" content="ferry report">
    <title>{{title}}</title>
    <style>
    :root { --fg: #0f172a; --muted: #64748b; --line: #e2e8f0; --soft: #f8fafc; --ok: #15803d; --bad: #b91c1c; --run: #1d4ed8; }
    * { box-sizing: border-box; }
    body { margin: 0; color: var(--fg); background: #fff; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif; }
    main { max-width: 1200px; margin: 0 auto; padding: 28px 28px 40px; }
    header.page { border-bottom: 1px solid var(--line); padding-bottom: 10px; }
    h1 { font-size: 22px; margin: 0 0 2px; letter-spacing: -0.01em; }
    h2 { font-size: 18px; margin: 34px 0 10px; display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; }
    h3 { font-size: 15px; margin: 22px 0 8px; }
    .meta, .id { color: var(--muted); font-size: 12.5px; font-weight: normal; }
    code, .id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; overflow-wrap: anywhere; }
    .badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600; background: #dbeafe; color: var(--run); }
    .badge.ok { background: #dcfce7; color: var(--ok); }
    .badge.bad { background: #fee2e2; color: var(--bad); }
    .stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 10px; margin: 12px 0; }
    .stat { border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; background: var(--soft); }
    .stat .k { color: var(--muted); font-size: 12px; }
    .stat .v { font-size: 15px; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
    .stat .sub { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
    dl.details { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 8px 0; }
    dl.details dt { color: var(--muted); }
    dl.details dd { margin: 0; overflow-wrap: anywhere; }
    .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 14px; margin: 14px 0; }
    figure.chart-card { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px 10px; min-width: 0; }
    figure.chart-card figcaption { font-weight: 600; font-size: 13.5px; margin-bottom: 2px; }
    figure.chart-card svg.chart { display: block; width: 100%; height: auto; }
    ul.legend { list-style: none; margin: 4px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 12.5px; color: #334155; }
    ul.legend li { display: flex; align-items: center; gap: 6px; min-width: 0; overflow-wrap: anywhere; }
    ul.legend li svg { flex: none; }
    .table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; }
    table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
    th, td { padding: 5px 8px; text-align: right; white-space: nowrap; border-bottom: 1px solid var(--line); }
    th { background: var(--soft); color: #334155; font-weight: 600; vertical-align: bottom; white-space: normal; }
    th.l, td.l { text-align: left; }
    th .unit { display: block; color: var(--muted); font-weight: normal; font-size: 11.5px; }
    tbody tr:last-child td { border-bottom: none; }
    tr.aggregate td { background: var(--soft); font-weight: 600; }
    td.ok { color: var(--ok); }
    td.bad, td.error { color: var(--bad); }
    td.error { white-space: normal; text-align: left; min-width: 12em; }
    .empty { color: var(--muted); margin: 12px 0; }
    table.matrix { margin-bottom: 10px; }
    footer { margin-top: 36px; padding-top: 10px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; }
    @media print { main { max-width: none; padding: 0; } figure.chart-card, .stat { break-inside: avoid; } }
    </style>
    </head>
    <body>
    <main>
    <header class="page">
    <h1>{{title}}</h1>
    <div class="meta">generated {{generatedAt}}</div>
    </header>
    {{#comparison}}
    <section id="comparison">
    <h2>Comparison</h2>
    <div class="table-wrap"><table>
    <thead><tr><th class="l">job</th><th class="l">state</th><th>rounds</th>{{#metrics}}<th>final {{.}}</th>{{/metrics}}<th>on the wire</th><th>unquantized</th><th>saving</th><th>time</th></tr></thead>
    <tbody>
    {{#rows}}
    <tr><td class="l"><a href="#{{anchor}}">{{name}}</a><div class="id">{{id}}</div></td><td class="l"><span class="badge {{stateClass}}">{{state}}</span></td><td>{{rounds}}</td>{{#finals}}<td>{{.}}</td>{{/finals}}<td>{{wire}}</td><td>{{unquantized}}</td><td>{{saving}}</td><td>{{time}}</td></tr>
    {{/rows}}
    </tbody>
    </table></div>
    <div class="charts">
    {{#charts}}
    <figure class="chart-card">
    <figcaption>{{title}}</figcaption>
    {{#hasData}}
    {{{svg}}}
    <ul class="legend">{{#legend}}<li>{{{swatch}}}<span>{{label}}</span></li>{{/legend}}</ul>
    {{/hasData}}
    {{^hasData}}<p class="empty">no data</p>{{/hasData}}
    </figure>
    {{/charts}}
    </div>
    </section>
    {{/comparison}}
    {{#jobs}}
    <section class="job" id="{{anchor}}">
    <h2>{{name}} <span class="badge {{stateClass}}">{{state}}</span> <span class="id">{{id}}</span></h2>
    <div class="stats">
    <div class="stat"><div class="k">rounds</div><div class="v">{{roundsDone}} of {{roundsPlanned}}</div></div>
    {{#time}}<div class="stat"><div class="k">time</div><div class="v">{{.}}</div></div>{{/time}}
    <div class="stat"><div class="k">to clients</div><div class="v">{{toClientsWire}}</div><div class="sub">{{toClientsUnquantized}} unquantized</div></div>
    <div class="stat"><div class="k">from clients</div><div class="v">{{fromClientsWire}}</div><div class="sub">{{fromClientsUnquantized}} unquantized</div></div>
    <div class="stat"><div class="k">saving from quantization</div><div class="v">{{saving}}</div><div class="sub">{{wire}} on the wire in all</div></div>
    </div>
    <dl class="details">
    {{#workflow}}<dt>workflow</dt><dd>{{.}}</dd>{{/workflow}}
    {{#reason}}<dt>reason</dt><dd>{{.}}</dd>{{/reason}}
    {{#notes}}<dt>note</dt><dd>{{.}}</dd>{{/notes}}
    {{#finalModel}}<dt>final model</dt><dd><code>{{.}}</code></dd>{{/finalModel}}
    </dl>
    <div class="charts">
    {{#charts}}
    <figure class="chart-card">
    <figcaption>{{title}}</figcaption>
    {{#hasData}}
    {{{svg}}}
    <ul class="legend">{{#legend}}<li>{{{swatch}}}<span>{{label}}</span></li>{{/legend}}</ul>
    {{/hasData}}
    {{^hasData}}<p class="empty">no data</p>{{/hasData}}
    </figure>
    {{/charts}}
    </div>
    <h3>Rounds</h3>
    {{^hasRounds}}<p class="empty">no round finished</p>{{/hasRounds}}
    {{#hasRounds}}
    <div class="table-wrap"><table>
    <thead><tr><th>round</th><th class="l">site</th><th class="l">status</th><th>samples</th>{{#metrics}}<th>{{.}}</th>{{/metrics}}<th>to client<span class="unit">wire / raw</span></th><th>from client<span class="unit">wire / raw</span></th><th>time</th>{{#hasErrors}}<th class="l">error</th>{{/hasErrors}}</tr></thead>
    <tbody>
    {{#rounds}}
    {{#sites}}
    <tr><td>{{round}}</td><td class="l">{{site}}</td><td class="l {{statusClass}}">{{status}}</td><td>{{samples}}</td>{{#values}}<td>{{.}}</td>{{/values}}<td>{{toClient}}</td><td>{{fromClient}}</td><td>{{time}}</td>{{#hasErrors}}<td class="error">{{error}}</td>{{/hasErrors}}</tr>
    {{/sites}}
    <tr class="aggregate"><td>{{round}}</td><td class="l">aggregate</td><td></td><td></td>{{#aggregate}}<td>{{.}}</td>{{/aggregate}}<td></td><td></td><td>{{time}}</td>{{#hasErrors}}<td></td>{{/hasErrors}}</tr>
    {{/rounds}}
    </tbody>
    </table></div>
    {{/hasRounds}}
    {{#evaluation}}
    <h3>Evaluation of the global model</h3>
    <div class="table-wrap"><table>
    <thead><tr><th>round</th><th class="l">site</th><th class="l">status</th><th>samples</th>{{#metrics}}<th>{{.}}</th>{{/metrics}}{{#hasErrors}}<th class="l">error</th>{{/hasErrors}}</tr></thead>
    <tbody>
    {{#rows}}
    <tr{{#isAggregate}} class="aggregate"{{/isAggregate}}><td>{{round}}</td><td class="l">{{site}}</td><td class="l {{statusClass}}">{{status}}</td><td>{{samples}}</td>{{#values}}<td>{{.}}</td>{{/values}}{{#hasErrors}}<td class="error">{{error}}</td>{{/hasErrors}}</tr>
    {{/rows}}
    </tbody>
    </table></div>
    {{/evaluation}}
    {{#crossSiteEval}}
    <h3>Cross-site evaluation</h3>
    <p class="meta">rows: the site whose data evaluated; columns: the model evaluated</p>
    {{#tables}}
    <div class="table-wrap"><table class="matrix">
    <thead><tr><th class="l">{{metric}}</th>{{#models}}<th>{{.}}</th>{{/models}}</tr></thead>
    <tbody>
    {{#rows}}
    <tr><td class="l">{{site}}</td>{{#cells}}<td class="{{cellClass}}"{{#error}} title="{{.}}"{{/error}}>{{value}}</td>{{/cells}}</tr>
    {{/rows}}
    </tbody>
    </table></div>
    {{/tables}}
    {{#missing}}<p class="meta">missing: {{.}}</p>{{/missing}}
    {{/crossSiteEval}}
    </section>
    {{/jobs}}
    <footer>Made by <code>ferry report</code>: one self-contained file, no scripts, nothing loaded from the network.</footer>
    </main>
    </body>
    </html>

    """#
}
