package shepherd

import (
	"html/template"
	"time"
)

// debugHTML is the debug page as HTML. It is self-contained so that it
// works on a debug port with no route to anything else: the styles are
// inline, there is no script (auto-refresh is a meta tag), and the empty
// data: icon keeps the browser from asking for /favicon.ico.
var debugHTML = template.Must(template.New("page").Funcs(template.FuncMap{
	"plural": plural,
	"stamp":  func(t *time.Time) string { return t.Format(time.RFC3339) },
	"now":    func(t time.Time) string { return t.Format(time.RFC3339) },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">{{end}}
<link rel="icon" href="data:,">
<title>shepherd{{range .Roots}} · {{.Path}} {{.State}}{{end}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.2em 1.6em;color:#1d2330;background:#f6f7f9}
h1{font-size:1.15em;margin:0}
h2{font-size:1em;margin:1.4em 0 .3em}
header{display:flex;flex-wrap:wrap;gap:.4em 1.4em;align-items:baseline;margin-bottom:.8em}
header .meta{color:#5f6673}
nav a{color:#2457a6;margin-right:.5em}
nav a.on{font-weight:700;text-decoration:none;color:#1d2330}
.node{border-left:4px solid #9e9e9e;background:#fff;margin:.45em 0;padding:.35em .7em;border-radius:0 4px 4px 0;box-shadow:0 1px 2px #0001}
.children{margin-left:1.4em}
.head{display:flex;flex-wrap:wrap;gap:.2em .8em;align-items:baseline}
.path{font:600 14px ui-monospace,SFMono-Regular,Menlo,monospace}
.kind,.age,.fact{color:#5f6673;font-size:.9em}
.fact b{color:#1d2330}
.state{border-radius:3px;padding:0 .5em;font-size:.85em;font-weight:600;color:#fff;background:#9e9e9e}
.err{color:#b3261e;font:12px ui-monospace,Menlo,monospace;white-space:pre-wrap;margin:.25em 0}
details{margin:.2em 0}
summary{cursor:pointer;color:#39404d;font-size:.9em}
.gs{margin:.25em 0 .25em 1em}
.gs .n{font-weight:600}
.gs .owner{font:12px ui-monospace,Menlo,monospace;color:#2457a6}
pre{margin:.1em 0 .2em 1em;font:12px/1.4 ui-monospace,Menlo,monospace;color:#39404d;white-space:pre-wrap;overflow-wrap:anywhere}
.none{color:#5f6673;font-style:italic}
.leak{border-radius:3px;padding:0 .5em;font-size:.85em;font-weight:600;color:#fff;background:#b3261e}
.gs.leaked{border-left:3px solid #b3261e;padding-left:.5em}
.wait{border-radius:3px;padding:0 .4em;font-size:.85em;background:#fff3cd;color:#6d4c00}
.tasks{font-size:.85em;color:#5f6673}
mark{background:#e3f0ff;color:#0b3d91;font-weight:600}
details.plumbing>summary{color:#8a909b}
.st-idle{border-color:#9e9e9e}.st-idle .state{background:#9e9e9e}
.st-starting{border-color:#f9a825}.st-starting .state{background:#f9a825;color:#1d2330}
.st-running{border-color:#2e7d32}.st-running .state{background:#2e7d32}
.st-restarting{border-color:#ef6c00}.st-restarting .state{background:#ef6c00}
.st-stopping{border-color:#1565c0}.st-stopping .state{background:#1565c0}
.st-stopped{border-color:#616161}.st-stopped .state{background:#616161}
.st-failed{border-color:#c62828}.st-failed .state{background:#c62828}
.st-stuck{border-color:#6a1b9a}.st-stuck .state{background:#6a1b9a}
</style>
</head>
<body>
<header>
<h1>shepherd</h1>
<span class="meta">{{len .Roots}} {{plural (len .Roots) "tree" "trees"}}{{if .Goroutines}} · {{.Total}} {{plural .Total "goroutine" "goroutines"}}{{if .LeakProfile}} · {{.Leaked}} proven leaked{{end}}{{end}} · {{now .Time}}</span>
<nav>
<a href="?format=text">text</a><a href="?format=json">json</a>
auto-refresh:
<a href="?format=html"{{if not .Refresh}} class="on"{{end}}>off</a><a href="?format=html&amp;refresh=2"{{if eq .Refresh 2}} class="on"{{end}}>2s</a><a href="?format=html&amp;refresh=10"{{if eq .Refresh 10}} class="on"{{end}}>10s</a>
</nav>
</header>
<main>
{{range .Roots}}{{template "node" .}}{{end}}
{{if .Other}}
<h2>other: goroutines of shepherd paths outside the trees</h2>
{{range .Other}}{{template "goroutines" .}}{{end}}
{{end}}
{{if .Goroutines}}
<h2>unowned: goroutines without a shepherd label</h2>
<details><summary>{{.UnownedCount}} {{plural .UnownedCount "goroutine" "goroutines"}}</summary>
{{range .UnownedProgram}}{{template "goroutines" .}}{{else}}<p class="none">none of the program's own</p>{{end}}
{{- if .UnownedPlumbing}}
<details class="plumbing"><summary>{{.UnownedPlumbingCount}} {{plural .UnownedPlumbingCount "goroutine" "goroutines"}} of shepherd's and the standard library's plumbing</summary>
{{range .UnownedPlumbing}}{{template "goroutines" .}}{{end}}</details>{{end}}
</details>
{{end}}
</main>
</body>
</html>
{{define "node"}}<section class="node st-{{.State}}">
<div class="head"><span class="path">{{.Path}}</span><span class="kind">{{.Kind}}</span><span class="state">{{.State}}</span>
{{- if .Age}}<span class="age" title="since {{stamp .Since}}">for {{.Age}}</span>{{end}}
{{- range .Facts}}<span class="fact">{{.Name}} <b>{{.Value}}</b></span>{{end}}
{{- if .Leaked}}<span class="leak">{{.Leaked}} leaked</span>{{end}}
{{- with .Trend}}<span class="fact{{if .Over}} over{{end}}" title="goroutines at each sample, oldest first">goroutines <b>{{.Arrows}}</b>{{if .Max}} of max {{.Max}}{{end}}</span>{{if .Growing}}<span class="leak" title="grew at every sample of the window">only grown</span>{{end}}{{if .Over}}<span class="leak">over limit</span>{{end}}{{end}}</div>
{{- if .LastErr}}
<div class="err">last error: {{.LastErr}}</div>{{end}}
{{- if .Goroutines}}
<details open><summary>{{.Count}} {{plural .Count "goroutine" "goroutines"}}</summary>
{{range .Program}}{{template "goroutines" .}}{{end}}
{{- if .Plumbing}}
<details class="plumbing"><summary>{{.PlumbingCount}} {{plural .PlumbingCount "goroutine" "goroutines"}} of shepherd's and the standard library's plumbing</summary>
{{range .Plumbing}}{{template "goroutines" .}}{{end}}</details>{{end}}
</details>{{end}}
{{- if .Children}}
<div class="children">
{{range .Children}}{{template "node" .}}{{end}}</div>{{end}}
</section>
{{end}}
{{define "goroutines"}}<div class="gs{{if .Leaked}} leaked{{end}}"><span class="n">{{.Count}} ×</span>{{if and .Path (not .Own)}} <span class="owner">{{.Path}}{{if gt .Tasks 1}} … {{.LastPath}}</span> <span class="tasks">{{.Tasks}} tasks</span>{{else}}</span>{{end}}{{end}}
{{- range .Waits}} <span class="wait">{{.}}</span>{{end}}
{{- if .Leaked}} <span class="leak" title="the runtime proved they can never wake">{{.Leaked}} proven leaked</span>{{end}}
<pre>{{range .Frames}}{{if .Program}}<mark>{{.Function}}  {{.File}}:{{.Line}}</mark>{{else}}{{.Function}}  {{.File}}:{{.Line}}{{end}}
{{else}}(no stack: starting or exiting)
{{end}}</pre></div>
{{end}}`))
