module github.com/dialtone-voice/dialtone/examples/go

go 1.26.8

require (
	github.com/alibabacloud-go/dyvmsapi-20170525 v1.2.1
	github.com/alibabacloud-go/tea v1.1.7
	github.com/alibabacloud-go/tea-rpc v1.1.3
	github.com/aliyun/alibaba-cloud-sdk-go v1.63.107
	// The stream agents use the SDK (sdk.StreamHandler); their tests dial
	// with Dialtone's own side of a stream (package stream). Always this
	// checkout's, never a published version.
	github.com/dialtone-voice/dialtone v0.0.0
)

require (
	github.com/alibabacloud-go/debug v0.0.0-20190504072949-9472017b5c68 // indirect
	github.com/alibabacloud-go/endpoint-util v1.1.0 // indirect
	github.com/alibabacloud-go/tea-rpc-utils v1.1.0 // indirect
	github.com/alibabacloud-go/tea-utils v1.3.0 // indirect
	github.com/aliyun/credentials-go v1.1.0 // indirect
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/coder/websocket v1.8.15 // indirect
	github.com/hajimehoshi/go-mp3 v0.3.4 // indirect
	github.com/jmespath/go-jmespath v0.4.0 // indirect
	github.com/json-iterator/go v1.1.12 // indirect
	github.com/modern-go/concurrent v0.0.0-20180306012644-bacd9c7ef1dd // indirect
	github.com/modern-go/reflect2 v1.0.2 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/opentracing/opentracing-go v1.2.1-0.20220228012449-10b1cf09e00b // indirect
	github.com/prometheus/client_golang v1.25.0 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	gopkg.in/ini.v1 v1.67.0 // indirect
)

replace github.com/dialtone-voice/dialtone => ../..
