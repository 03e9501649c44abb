// Package local is what the samples of Alibaba's SDK reference change to
// run against a local Dialtone: where it is, the AccessKey, and the
// numbers of its demo. Everything else in the samples is as the reference
// writes it.
package local

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	dyvmsapiclient "github.com/alibabacloud-go/dyvmsapi-20170525/client"
	rpc "github.com/alibabacloud-go/tea-rpc/client"
	"github.com/alibabacloud-go/tea/tea"
)

// Endpoint is the Dialtone the samples talk to: DIALTONE_ENDPOINT, or
// 127.0.0.1:8080 (`dialtone serve`'s default), as host:port.
func Endpoint() string {
	e := os.Getenv("DIALTONE_ENDPOINT")
	if e == "" {
		e = "127.0.0.1:8080"
	}
	e = strings.TrimPrefix(strings.TrimPrefix(e, "http://"), "https://")
	return strings.TrimSuffix(e, "/")
}

// AccessKey is the AccessKey of ALIBABA_CLOUD_ACCESS_KEY_ID and
// ALIBABA_CLOUD_ACCESS_KEY_SECRET; a first start of Dialtone writes them to
// data/credentials (set -a; . ./data/credentials; set +a).
func AccessKey() (id, secret string) {
	id, secret = os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	if id == "" || secret == "" {
		Fail(fmt.Errorf("set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (from Dialtone's data/credentials: set -a; . ./data/credentials; set +a)"))
	}
	return id, secret
}

// Account is the account's UID (DIALTONE_ACCOUNT in data/credentials),
// which names its receipt queues.
func Account() string {
	uid := os.Getenv("DIALTONE_ACCOUNT")
	if uid == "" {
		Fail(fmt.Errorf("set DIALTONE_ACCOUNT to the account's UID (from Dialtone's data/credentials)"))
	}
	return uid
}

// ShowNumber is the demo's display number.
const ShowNumber = "057188880000"

// Arg is the i-th command-line argument, or def.
func Arg(i int, def string) string {
	if len(os.Args) > i && os.Args[i] != "" {
		return os.Args[i]
	}
	return def
}

// Print writes v as one line of JSON, the response the sample received.
func Print(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		Fail(err)
	}
	fmt.Println(string(b))
}

// Fail reports err and exits with status 1.
func Fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// CreateClient is the reference's CreateClient (使用AK&SK初始化账号Client)
// with Dialtone's endpoint over HTTP: the one change the samples need.
func CreateClient(accessKeyId *string, accessKeySecret *string, regionId *string) (_result *dyvmsapiclient.Client, _err error) {
	config := &rpc.Config{}
	// 您的AccessKey ID
	config.AccessKeyId = accessKeyId
	// 您的AccessKey Secret
	config.AccessKeySecret = accessKeySecret
	// 您的可用区ID
	config.RegionId = regionId
	// Dialtone instead of Alibaba Cloud (with the drop-in set-up of
	// Dialtone's README, these two lines go too).
	config.Endpoint = tea.String(Endpoint())
	config.Protocol = tea.String("http")
	_result = &dyvmsapiclient.Client{}
	_result, _err = dyvmsapiclient.NewClient(config)
	return _result, _err
}

// Client is CreateClient with the AccessKey of the environment, in
// cn-hangzhou.
func Client() *dyvmsapiclient.Client {
	id, secret := AccessKey()
	client, err := CreateClient(tea.String(id), tea.String(secret), tea.String("cn-hangzhou"))
	if err != nil {
		Fail(err)
	}
	return client
}
