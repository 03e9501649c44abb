package console

import (
	"fmt"
	"os"
	"testing"
)

func TestDumpTmp(t *testing.T) {
	act := os.Getenv("ACT")
	def, _ := actionDef(act)
	wire, _ := expandParams(def, fullParams(def))
	for _, s := range snippets(def, wire, "127.0.0.1:8080", "http", "LTAIexample") {
		if os.Getenv("ID") == "" || os.Getenv("ID") == s.ID {
			fmt.Printf("===== %s\n%s\n", s.ID, s.Code)
		}
	}
}
