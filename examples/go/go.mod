module github.com/dialtone-voice/dialtone/examples/go

go 1.26.8

require (
	github.com/alibabacloud-go/dyvmsapi-20170525 v1.2.1
	github.com/alibabacloud-go/tea v1.1.7
	github.com/alibabacloud-go/tea-rpc v1.1.3
	github.com/aliyun/alibaba-cloud-sdk-go v1.63.107
)

require (
	github.com/alibabacloud-go/debug v0.0.0-20190504072949-9472017b5c68 // indirect
	github.com/alibabacloud-go/endpoint-util v1.1.0 // indirect
	github.com/alibabacloud-go/tea-rpc-utils v1.1.0 // indirect
	github.com/alibabacloud-go/tea-utils v1.3.0 // indirect
	github.com/aliyun/credentials-go v1.1.0 // indirect
	github.com/jmespath/go-jmespath v0.4.0 // indirect
	github.com/json-iterator/go v1.1.12 // indirect
	github.com/modern-go/concurrent v0.0.0-20180306012644-bacd9c7ef1dd // indirect
	github.com/modern-go/reflect2 v1.0.2 // indirect
	github.com/opentracing/opentracing-go v1.2.1-0.20220228012449-10b1cf09e00b // indirect
	golang.org/x/net v0.0.0-20200506145744-7e3656a0809f // indirect
	gopkg.in/ini.v1 v1.67.0 // indirect
)
