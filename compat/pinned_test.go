package compat

// The same cases with the older client versions built in modules of their
// own (pinned/*), so that each runs on the dependency versions it declares
// (tea, tea-rpc, darabonba-openapi) rather than the newer ones that minimal
// version selection picks for this module because of dyvmsapi v6.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var pinnedBuilds sync.Map // dir -> *pinnedBuild

type pinnedBuild struct {
	once sync.Once
	bin  string
	err  error
}

func pinnedBinary(t *testing.T, dir string) string {
	t.Helper()
	v, _ := pinnedBuilds.LoadOrStore(dir, &pinnedBuild{})
	b := v.(*pinnedBuild)
	b.once.Do(func() {
		b.bin = filepath.Join(workDir, "pinned-"+dir)
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.bin, ".")
		cmd.Dir = filepath.Join("pinned", dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build in pinned/%s: %v\n%s", dir, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

// pinnedCall runs the command in pinned/<dir> once and reads its JSON outcome.
func pinnedCall(dir string, extra ...string) func(t *testing.T, endpoint, ak, secret string) outcome {
	return func(t *testing.T, endpoint, ak, secret string) outcome {
		t.Helper()
		bin := pinnedBinary(t, dir)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		args := append([]string{"-endpoint", endpoint, "-ak", ak, "-secret", secret}, extra...)
		cmd := exec.CommandContext(ctx, bin, args...)
		var stderr lockedBuffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("pinned/%s: %v\n%s", dir, err, stderr.String())
		}
		var r struct {
			Err       string `json:"err"`
			Code      string `json:"code"`
			Message   string `json:"message"`
			RequestID string `json:"requestId"`
			Status    int    `json:"status"`
			Data      string `json:"data"`
			HasData   bool   `json:"hasData"`
		}
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("pinned/%s output %q: %v", dir, out, err)
		}
		o := outcome{Code: r.Code, Message: r.Message, RequestID: r.RequestID, Status: r.Status, Data: r.Data, HasData: r.HasData}
		if r.Err != "" {
			o.Err = errors.New(r.Err)
		}
		return o
	}
}

// tea-rpc v1.1.3, tea v1.1.7, tea-utils v1.3.0.
func TestDyvmsapiV1_2_1Pinned(t *testing.T) {
	runGoClientCases(t, goClient{call: pinnedCall("dyvmsapi-v1.2.1")})
}

// darabonba-openapi v0.1.4, tea v1.1.15.
func TestDyvmsapiV2_0_2Pinned(t *testing.T) {
	runGoClientCases(t, goClient{statusOnError: true, call: pinnedCall("dyvmsapi-v2.0.2")})
}

// darabonba-openapi/v2 v2.0.0, tea v1.1.19.
func TestDyvmsapiV3_0_0Pinned(t *testing.T) {
	runGoClientCases(t, goClient{statusOnSuccess: true, statusOnError: true, call: pinnedCall("dyvmsapi-v3.0.0")})
}

// darabonba-openapi/v2 v2.0.6, tea v1.2.1.
func TestDyvmsapiV4_2_1Pinned(t *testing.T) {
	runGoClientCases(t, goClient{statusOnSuccess: true, statusOnError: true, call: pinnedCall("dyvmsapi-v4.2.1")})
}

func TestDyvmsapiV4_2_1SignatureV2Pinned(t *testing.T) {
	runGoClientCases(t, goClient{statusOnSuccess: true, statusOnError: true,
		call: pinnedCall("dyvmsapi-v4.2.1", "-signature-algorithm", "v2")})
}
