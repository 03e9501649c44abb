package console

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Snippets show an Explorer call as code for the official SDKs (pointed
// at this node) and Dialtone's own sdk package. The secret is read from the
// environment in every snippet: the console never has it in the browser.

// Snippet names, in the order the page shows them.
const (
	SnipGoV1     = "Go (alibaba-cloud-sdk-go)"
	SnipGoV4     = "Go (dyvmsapi v4)"
	SnipDialtone = "Go (Dialtone sdk)"
	SnipJava     = "Java"
	SnipPython   = "Python"
	SnipPHP      = "PHP"
	SnipCSharp   = "C#"
	SnipTS       = "TypeScript"
)

var snippetOrder = []string{SnipGoV1, SnipGoV4, SnipDialtone, SnipJava, SnipPython, SnipPHP, SnipCSharp, SnipTS}

// notInTeaSDK lists actions that the current (tea/darabonba) SDKs lack.
var notInTeaSDK = map[string]bool{"ClickToDial": true}

type menuItem struct{ Key, Code, TtsParams string }

// snippetParams splits wire parameters into plain ones (in definition
// order) and MenuKeyMap items.
func snippetParams(def *ActionDef, wire map[string]string) (plain []Param, values map[string]string, menu []menuItem) {
	values = wire
	for _, p := range def.Params {
		if p.Type == TMenuMap {
			for i := 1; ; i++ {
				pre := fmt.Sprintf("%s.%d.", p.Name, i)
				if wire[pre+"Key"] == "" && wire[pre+"Code"] == "" {
					break
				}
				menu = append(menu, menuItem{wire[pre+"Key"], wire[pre+"Code"], wire[pre+"TtsParams"]})
			}
			continue
		}
		if _, ok := wire[p.Name]; ok {
			plain = append(plain, p)
		}
	}
	return plain, values, menu
}

func snippets(def *ActionDef, wire map[string]string, host, keyID string) (map[string]string, []string) {
	plain, vals, menu := snippetParams(def, wire)
	out := map[string]string{
		SnipGoV1:     goV1(def.Name, plain, vals, menu, host, keyID),
		SnipGoV4:     goV4(def.Name, plain, vals, menu, host, keyID),
		SnipDialtone: goDialtone(def.Name, wire, host, keyID),
		SnipJava:     java(def.Name, plain, vals, menu, host, keyID),
		SnipPython:   python(def.Name, plain, vals, menu, host, keyID),
		SnipPHP:      php(def.Name, wire, host, keyID),
		SnipCSharp:   csharp(def.Name, wire, host, keyID),
		SnipTS:       typescript(def.Name, wire, host, keyID),
	}
	return out, snippetOrder
}

func q(s string) string { return strconv.Quote(s) }

func sortedWire(wire map[string]string) []string {
	keys := make([]string, 0, len(wire))
	for k := range wire {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func goV1(action string, plain []Param, vals map[string]string, menu []menuItem, host, keyID string) string {
	var b strings.Builder
	usesRequests := false
	for _, p := range plain {
		usesRequests = usesRequests || p.Type == TInt32 || p.Type == TInt64 || p.Type == TBool || p.Type == TFloat
	}
	b.WriteString("package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\n\t\"github.com/aliyun/alibaba-cloud-sdk-go/sdk/endpoints\"\n")
	if usesRequests {
		b.WriteString("\t\"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests\"\n")
	}
	b.WriteString("\t\"github.com/aliyun/alibaba-cloud-sdk-go/services/dyvmsapi\"\n)\n\nfunc main() {\n")
	fmt.Fprintf(&b, "\t// Send Dyvmsapi to this Dialtone node instead of Alibaba Cloud.\n\tendpoints.AddEndpointMapping(\"cn-hangzhou\", \"Dyvmsapi\", %s)\n", q(host))
	fmt.Fprintf(&b, "\tclient, err := dyvmsapi.NewClientWithAccessKey(\"cn-hangzhou\", %s, os.Getenv(\"ALIBABA_CLOUD_ACCESS_KEY_SECRET\"))\n\tif err != nil {\n\t\tpanic(err)\n\t}\n", q(keyID))
	fmt.Fprintf(&b, "\trequest := dyvmsapi.Create%sRequest()\n\trequest.Scheme = \"http\"\n", action)
	for _, p := range plain {
		v := vals[p.Name]
		switch p.Type {
		case TInt32, TInt64:
			fmt.Fprintf(&b, "\trequest.%s = requests.NewInteger(%s)\n", p.Name, v)
		case TBool:
			fmt.Fprintf(&b, "\trequest.%s = requests.NewBoolean(%s)\n", p.Name, v)
		case TFloat:
			fmt.Fprintf(&b, "\trequest.%s = requests.NewFloat(%s)\n", p.Name, v)
		default:
			fmt.Fprintf(&b, "\trequest.%s = %s\n", p.Name, q(v))
		}
	}
	if len(menu) > 0 {
		b.WriteString("\trequest.MenuKeyMap = &[]dyvmsapi.IvrCallMenuKeyMap{\n")
		for _, m := range menu {
			fmt.Fprintf(&b, "\t\t{Key: %s, Code: %s, TtsParams: %s},\n", q(m.Key), q(m.Code), q(m.TtsParams))
		}
		b.WriteString("\t}\n")
	}
	fmt.Fprintf(&b, "\tresponse, err := client.%s(request)\n\tif err != nil {\n\t\tpanic(err)\n\t}\n\tfmt.Println(response.GetHttpContentString())\n}\n", action)
	return b.String()
}

func goV4(action string, plain []Param, vals map[string]string, menu []menuItem, host, keyID string) string {
	if notInTeaSDK[action] {
		return "// " + action + " is not in dyvmsapi-20170525/v4 (it was removed from the\n// current SDKs); use the alibaba-cloud-sdk-go style or Dialtone's sdk package.\n"
	}
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\n\topenapi \"github.com/alibabacloud-go/darabonba-openapi/v2/client\"\n\tdyvmsapi \"github.com/alibabacloud-go/dyvmsapi-20170525/v4/client\"\n\t\"github.com/alibabacloud-go/tea/tea\"\n)\n\nfunc main() {\n")
	fmt.Fprintf(&b, "\tclient, err := dyvmsapi.NewClient(&openapi.Config{\n\t\tAccessKeyId:     tea.String(%s),\n\t\tAccessKeySecret: tea.String(os.Getenv(\"ALIBABA_CLOUD_ACCESS_KEY_SECRET\")),\n\t\tEndpoint:        tea.String(%s),\n\t\tProtocol:        tea.String(\"http\"),\n\t})\n\tif err != nil {\n\t\tpanic(err)\n\t}\n", q(keyID), q(host))
	fmt.Fprintf(&b, "\tresponse, err := client.%s(&dyvmsapi.%sRequest{\n", action, action)
	for _, p := range plain {
		v := vals[p.Name]
		switch p.Type {
		case TInt32:
			fmt.Fprintf(&b, "\t\t%s: tea.Int32(%s),\n", p.Name, v)
		case TInt64:
			fmt.Fprintf(&b, "\t\t%s: tea.Int64(%s),\n", p.Name, v)
		case TBool:
			fmt.Fprintf(&b, "\t\t%s: tea.Bool(%s),\n", p.Name, v)
		case TFloat:
			fmt.Fprintf(&b, "\t\t%s: tea.Float64(%s),\n", p.Name, v)
		default:
			fmt.Fprintf(&b, "\t\t%s: tea.String(%s),\n", p.Name, q(v))
		}
	}
	if len(menu) > 0 {
		b.WriteString("\t\tMenuKeyMap: []*dyvmsapi.IvrCallRequestMenuKeyMap{\n")
		for _, m := range menu {
			fmt.Fprintf(&b, "\t\t\t{Key: tea.String(%s), Code: tea.String(%s), TtsParams: tea.String(%s)},\n", q(m.Key), q(m.Code), q(m.TtsParams))
		}
		b.WriteString("\t\t},\n")
	}
	b.WriteString("\t})\n\tif err != nil {\n\t\tpanic(err)\n\t}\n\tfmt.Println(response.Body)\n}\n")
	return b.String()
}

func goDialtone(action string, wire map[string]string, host, keyID string) string {
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n\t\"context\"\n\t\"fmt\"\n\t\"os\"\n\n\t\"github.com/dialtone-voice/dialtone/sdk\"\n)\n\nfunc main() {\n")
	fmt.Fprintf(&b, "\tc, err := sdk.New(sdk.Config{\n\t\tAccessKeyID:     %s,\n\t\tAccessKeySecret: os.Getenv(sdk.EnvAccessKeySecret),\n\t\tEndpoint:        %s,\n\t})\n\tif err != nil {\n\t\tpanic(err)\n\t}\n", q(keyID), q(host))
	idempotent := action == "QueryCallDetailByCallId" || action == "CancelCall"
	fmt.Fprintf(&b, "\t// Do sends any action by name; the typed methods (c.%s, ...) take Go structs.\n", action)
	fmt.Fprintf(&b, "\tres, err := c.Do(context.Background(), %s, map[string]string{\n", q(action))
	for _, k := range sortedWire(wire) {
		fmt.Fprintf(&b, "\t\t%s: %s,\n", q(k), q(wire[k]))
	}
	fmt.Fprintf(&b, "\t}, %v)\n\tif err != nil {\n\t\tpanic(err)\n\t}\n\tfmt.Println(res)\n}\n", idempotent)
	return b.String()
}

func java(action string, plain []Param, vals map[string]string, menu []menuItem, host, keyID string) string {
	var b strings.Builder
	b.WriteString("import com.aliyuncs.DefaultAcsClient;\nimport com.aliyuncs.IAcsClient;\nimport com.aliyuncs.http.ProtocolType;\nimport com.aliyuncs.profile.DefaultProfile;\nimport com.aliyuncs.dyvmsapi.model.v20170525.*;\n")
	if len(menu) > 0 {
		b.WriteString("import java.util.ArrayList;\nimport java.util.List;\n")
	}
	b.WriteString("\npublic class Example {\n    public static void main(String[] args) throws Exception {\n")
	fmt.Fprintf(&b, "        DefaultProfile.addEndpoint(\"cn-hangzhou\", \"Dyvmsapi\", %s);\n", q(host))
	fmt.Fprintf(&b, "        DefaultProfile profile = DefaultProfile.getProfile(\"cn-hangzhou\", %s, System.getenv(\"ALIBABA_CLOUD_ACCESS_KEY_SECRET\"));\n", q(keyID))
	fmt.Fprintf(&b, "        IAcsClient client = new DefaultAcsClient(profile);\n        %sRequest request = new %sRequest();\n        request.setSysProtocol(ProtocolType.HTTP);\n", action, action)
	for _, p := range plain {
		v := vals[p.Name]
		switch p.Type {
		case TInt32, TBool, TFloat:
			fmt.Fprintf(&b, "        request.set%s(%s);\n", p.Name, v)
		case TInt64:
			fmt.Fprintf(&b, "        request.set%s(%sL);\n", p.Name, v)
		default:
			fmt.Fprintf(&b, "        request.set%s(%s);\n", p.Name, q(v))
		}
	}
	if len(menu) > 0 {
		fmt.Fprintf(&b, "        List<%sRequest.MenuKeyMap> menu = new ArrayList<>();\n", action)
		for i, m := range menu {
			fmt.Fprintf(&b, "        %sRequest.MenuKeyMap item%d = new %sRequest.MenuKeyMap();\n", action, i+1, action)
			fmt.Fprintf(&b, "        item%d.setKey(%s);\n        item%d.setCode(%s);\n", i+1, q(m.Key), i+1, q(m.Code))
			if m.TtsParams != "" {
				fmt.Fprintf(&b, "        item%d.setTtsParams(%s);\n", i+1, q(m.TtsParams))
			}
			fmt.Fprintf(&b, "        menu.add(item%d);\n", i+1)
		}
		b.WriteString("        request.setMenuKeyMaps(menu);\n")
	}
	fmt.Fprintf(&b, "        %sResponse response = client.getAcsResponse(request);\n        System.out.println(response.getCode() + \" \" + response.getMessage());\n    }\n}\n", action)
	return b.String()
}

// snake turns a parameter name into the Python SDK's attribute name
// (CalledNumber -> called_number, EnableITN -> enable_itn).
func snake(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
			(i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func python(action string, plain []Param, vals map[string]string, menu []menuItem, host, keyID string) string {
	if notInTeaSDK[action] {
		return "# " + action + " is not in alibabacloud_dyvmsapi20170525; call it through\n# aliyunsdkcore's CommonRequest or Dialtone's Go sdk.\n"
	}
	var b strings.Builder
	b.WriteString("import os\n\nfrom alibabacloud_tea_openapi import models as open_api_models\nfrom alibabacloud_dyvmsapi20170525.client import Client\nfrom alibabacloud_dyvmsapi20170525 import models as dyvmsapi_models\n\n")
	fmt.Fprintf(&b, "config = open_api_models.Config(\n    access_key_id=%s,\n    access_key_secret=os.environ[\"ALIBABA_CLOUD_ACCESS_KEY_SECRET\"],\n    endpoint=%s,\n    protocol=\"http\",\n)\nclient = Client(config)\n", q(keyID), q(host))
	fmt.Fprintf(&b, "request = dyvmsapi_models.%sRequest(\n", action)
	for _, p := range plain {
		v := vals[p.Name]
		switch p.Type {
		case TInt32, TInt64, TFloat:
			fmt.Fprintf(&b, "    %s=%s,\n", snake(p.Name), v)
		case TBool:
			fmt.Fprintf(&b, "    %s=%s,\n", snake(p.Name), map[string]string{"true": "True", "false": "False"}[v])
		default:
			fmt.Fprintf(&b, "    %s=%s,\n", snake(p.Name), q(v))
		}
	}
	if len(menu) > 0 {
		b.WriteString("    menu_key_map=[\n")
		for _, m := range menu {
			fmt.Fprintf(&b, "        dyvmsapi_models.%sRequestMenuKeyMap(key=%s, code=%s, tts_params=%s),\n", action, q(m.Key), q(m.Code), q(m.TtsParams))
		}
		b.WriteString("    ],\n")
	}
	fmt.Fprintf(&b, ")\nresponse = client.%s(request)\nprint(response.body)\n", snake(action))
	return b.String()
}

// phpQuote makes a single-quoted PHP string, where "$name$" stays literal.
func phpQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func php(action string, wire map[string]string, host, keyID string) string {
	var b strings.Builder
	b.WriteString("<?php\nrequire __DIR__ . '/vendor/autoload.php';\n\nuse AlibabaCloud\\Client\\AlibabaCloud;\n\n")
	fmt.Fprintf(&b, "AlibabaCloud::accessKeyClient(%s, getenv('ALIBABA_CLOUD_ACCESS_KEY_SECRET'))\n    ->regionId('cn-hangzhou')\n    ->asDefaultClient();\n\n", phpQuote(keyID))
	fmt.Fprintf(&b, "$result = AlibabaCloud::rpc()\n    ->product('Dyvmsapi')\n    ->version('2017-05-25')\n    ->action(%s)\n    ->method('POST')\n    ->scheme('http')\n    ->host(%s)\n    ->options(['query' => [\n", phpQuote(action), phpQuote(host))
	for _, k := range sortedWire(wire) {
		fmt.Fprintf(&b, "        %s => %s,\n", phpQuote(k), phpQuote(wire[k]))
	}
	b.WriteString("    ]])\n    ->request();\nprint_r($result->toArray());\n")
	return b.String()
}

func csharp(action string, wire map[string]string, host, keyID string) string {
	var b strings.Builder
	b.WriteString("using System;\nusing Aliyun.Acs.Core;\nusing Aliyun.Acs.Core.Http;\nusing Aliyun.Acs.Core.Profile;\n\n")
	fmt.Fprintf(&b, "var profile = DefaultProfile.GetProfile(\"cn-hangzhou\", %s, Environment.GetEnvironmentVariable(\"ALIBABA_CLOUD_ACCESS_KEY_SECRET\"));\nvar client = new DefaultAcsClient(profile);\n", q(keyID))
	fmt.Fprintf(&b, "var request = new CommonRequest\n{\n    Method = MethodType.POST,\n    Protocol = ProtocolType.HTTP,\n    Domain = %s,\n    Version = \"2017-05-25\",\n    Action = %s,\n};\n", q(host), q(action))
	for _, k := range sortedWire(wire) {
		fmt.Fprintf(&b, "request.AddQueryParameters(%s, %s);\n", q(k), q(wire[k]))
	}
	b.WriteString("CommonResponse response = client.GetCommonResponse(request);\nConsole.WriteLine(response.Data);\n")
	return b.String()
}

func typescript(action string, wire map[string]string, host, keyID string) string {
	var b strings.Builder
	b.WriteString("import Core from '@alicloud/pop-core';\n\n")
	fmt.Fprintf(&b, "const client = new Core({\n  accessKeyId: %s,\n  accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET!,\n  endpoint: %s,\n  apiVersion: '2017-05-25',\n});\n\n", q(keyID), q("http://"+host))
	fmt.Fprintf(&b, "const result = await client.request(%s, {\n", q(action))
	for _, k := range sortedWire(wire) {
		fmt.Fprintf(&b, "  %s: %s,\n", q(k), q(wire[k]))
	}
	b.WriteString("}, { method: 'POST' });\nconsole.log(result);\n")
	return b.String()
}
