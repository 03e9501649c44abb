// Package examples holds the repository's examples: the provisioning
// example (provisioning.yaml), the demo a first start provisions
// (demo.yaml) and, in the module under go/, runnable programs for the
// samples of Alibaba's SDK reference. The Go code here only embeds the
// demo, so that the binary carries it.
package examples

import "embed"

// Demo holds demo.yaml and the files it names.
//
//go:embed demo.yaml prompts/welcome.wav
var Demo embed.FS

// DemoFile is the demo document's name in Demo.
const DemoFile = "demo.yaml"
