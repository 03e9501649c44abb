module github.com/dialtone-voice/dialtone/compat

go 1.26.8

require (
	github.com/alibabacloud-go/darabonba-openapi v0.1.4
	github.com/alibabacloud-go/darabonba-openapi/v2 v2.1.14
	github.com/alibabacloud-go/dyvmsapi-20170525 v1.2.1
	github.com/alibabacloud-go/dyvmsapi-20170525/v2 v2.0.2
	github.com/alibabacloud-go/dyvmsapi-20170525/v3 v3.0.0
	github.com/alibabacloud-go/dyvmsapi-20170525/v4 v4.2.1
	github.com/alibabacloud-go/dyvmsapi-20170525/v6 v6.0.0
	github.com/alibabacloud-go/tea v1.3.13
	github.com/alibabacloud-go/tea-rpc v1.1.3
	github.com/alibabacloud-go/tea-utils v1.3.9
	github.com/aliyun/alibaba-cloud-sdk-go v1.63.107
)

require (
	github.com/alibabacloud-go/alibabacloud-gateway-spi v0.0.5 // indirect
	github.com/alibabacloud-go/debug v1.0.1 // indirect
	github.com/alibabacloud-go/endpoint-util v1.1.0 // indirect
	github.com/alibabacloud-go/openapi-util v0.1.0 // indirect
	github.com/alibabacloud-go/tea-rpc-utils v1.1.0 // indirect
	github.com/alibabacloud-go/tea-utils/v2 v2.0.7 // indirect
	github.com/aliyun/credentials-go v1.4.5 // indirect
	github.com/clbanning/mxj/v2 v2.7.0 // indirect
	github.com/jmespath/go-jmespath v0.4.0 // indirect
	github.com/json-iterator/go v1.1.12 // indirect
	github.com/modern-go/concurrent v0.0.0-20180306012644-bacd9c7ef1dd // indirect
	github.com/modern-go/reflect2 v1.0.2 // indirect
	github.com/opentracing/opentracing-go v1.2.1-0.20220228012449-10b1cf09e00b // indirect
	github.com/tjfoc/gmsm v1.4.1 // indirect
	golang.org/x/net v0.26.0 // indirect
	gopkg.in/ini.v1 v1.67.0 // indirect
)
