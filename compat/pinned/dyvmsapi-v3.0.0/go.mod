module github.com/dialtone-voice/dialtone/compat/pinned/dyvmsapi-v3.0.0

go 1.26.8

require (
	github.com/alibabacloud-go/darabonba-openapi/v2 v2.0.0
	github.com/alibabacloud-go/dyvmsapi-20170525/v3 v3.0.0
	github.com/alibabacloud-go/tea v1.1.19
)

require (
	github.com/alibabacloud-go/alibabacloud-gateway-spi v0.0.4 // indirect
	github.com/alibabacloud-go/debug v0.0.0-20190504072949-9472017b5c68 // indirect
	github.com/alibabacloud-go/endpoint-util v1.1.0 // indirect
	github.com/alibabacloud-go/openapi-util v0.0.11 // indirect
	github.com/alibabacloud-go/tea-utils v1.3.1 // indirect
	github.com/alibabacloud-go/tea-utils/v2 v2.0.0 // indirect
	github.com/alibabacloud-go/tea-xml v1.1.2 // indirect
	github.com/aliyun/credentials-go v1.1.2 // indirect
	github.com/clbanning/mxj/v2 v2.5.5 // indirect
	github.com/json-iterator/go v1.1.10 // indirect
	github.com/modern-go/concurrent v0.0.0-20180228061459-e0a39a4cb421 // indirect
	github.com/modern-go/reflect2 v1.0.1 // indirect
	github.com/tjfoc/gmsm v1.3.2 // indirect
	golang.org/x/net v0.0.0-20200506145744-7e3656a0809f // indirect
	gopkg.in/ini.v1 v1.56.0 // indirect
)
