package breakerstatus

import (
	"embed"
	"html/template"
	"io"
	"sync"
	"time"
)

//go:embed page/page.html page/page.css page/page.js
var pageFiles embed.FS

// pageTemplate is the parsed page, with its stylesheet and script inlined
// (so that the page is one response, under a nonce-based CSP).
type pageTemplate struct {
	t      *template.Template
	css    template.CSS
	script template.JS
}

// pageData is what the page template renders.
type pageData struct {
	Status        Status
	Nonce         string
	RefreshMillis int64
	CSS           template.CSS
	Script        template.JS
}

var loadPage = sync.OnceValue(func() *pageTemplate {
	css, err := pageFiles.ReadFile("page/page.css")
	if err != nil {
		panic(err)
	}
	js, err := pageFiles.ReadFile("page/page.js")
	if err != nil {
		panic(err)
	}
	t := template.Must(template.New("page.html").Funcs(template.FuncMap{
		"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}).ParseFS(pageFiles, "page/page.html"))
	return &pageTemplate{t: t, css: template.CSS(css), script: template.JS(js)}
})

func (p *pageTemplate) render(w io.Writer, d pageData) {
	d.CSS, d.Script = p.css, p.script
	_ = p.t.Execute(w, d)
}
