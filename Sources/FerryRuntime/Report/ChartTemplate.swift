import Mustache

/// The mustache template that turns a ``ChartSVGModel`` into inline SVG. Mustache escapes every text
/// and attribute value; colours and sizes are presentation attributes, so the chart looks the same
/// whatever CSS the page template has.
enum ChartTemplate {
    static let text = #"""
    <svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {{width}} {{height}}" width="{{width}}" height="{{height}}" role="img" aria-label="{{title}}" font-size="11" fill="#334155">
    <title>{{title}}</title>
    {{#grid}}
    <line x1="{{x1}}" y1="{{y}}" x2="{{x2}}" y2="{{y}}" stroke="#e2e8f0" stroke-width="1"/><text x="{{labelX}}" y="{{labelY}}" text-anchor="end">{{text}}</text>
    {{/grid}}
    <line x1="{{plotLeft}}" y1="{{plotBottom}}" x2="{{plotRight}}" y2="{{plotBottom}}" stroke="#64748b" stroke-width="1"/>
    {{#xTicks}}
    <text x="{{x}}" y="{{y}}" text-anchor="middle">{{text}}</text>
    {{/xTicks}}
    {{#xLabel}}
    <text x="{{x}}" y="{{y}}" text-anchor="middle" fill="#64748b">{{text}}</text>
    {{/xLabel}}
    {{#bars}}
    <rect x="{{x}}" y="{{y}}" width="{{width}}" height="{{height}}" fill="{{color}}"><title>{{title}}</title></rect>
    {{/bars}}
    {{#lines}}
    <g><polyline fill="none" stroke="{{color}}" stroke-width="{{width}}"{{#dash}} stroke-dasharray="{{.}}"{{/dash}} stroke-linejoin="round" stroke-linecap="round" points="{{points}}"/>{{#markers}}<path d="{{d}}" fill="{{fill}}" stroke="{{stroke}}" stroke-width="1.5"><title>{{title}}</title></path>{{/markers}}</g>
    {{/lines}}
    </svg>
    """#

    /// The parsed template (a constant: a parse failure is a programming error that every report test hits).
    static let svg: MustacheTemplate = {
        do {
            return try MustacheTemplate(string: text)
        } catch {
            preconditionFailure("the built-in chart template does not parse: \(error)")
        }
    }()
}
