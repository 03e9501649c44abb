// This file is auto-generated, don't edit it. Thanks.

using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;

using Tea;
using Tea.Utils;

namespace com.aliyun
{
    public class Client
    {
        /**
         * 使用AK&SK初始化账号Client
         * @param accessKeyId
         * @param accessKeySecret
         * @param regionId
         * @return Client
         * @throws Exception
         */
        public static AlibabaCloud.SDK.Dyvmsapi20170525.Client CreateClient(string accessKeyId, string accessKeySecret, string regionId)
        {
            AlibabaCloud.RPCClient.Models.Config config = new AlibabaCloud.RPCClient.Models.Config()
            ;
            // 你的AccessKey ID
// 您的AccessKey ID
config.AccessKeyId = accessKeyId;
// 您的AccessKey Secret
config.AccessKeySecret = accessKeySecret;
// 您的可用区ID
config.RegionId = regionId;
return new AlibabaCloud.SDK.Dyvmsapi20170525.Client(config);
}

/**
 * @param args
 * @throws Exception
 */
public static void Main(string[] args)
{
    AlibabaCloud.SDK.Dyvmsapi20170525.Client client = Client.CreateClient("accessKeyId", "accessKeySecret", "regionId");
    AlibabaCloud.SDK.Dyvmsapi20170525.Models.IvrCallRequest request = new AlibabaCloud.SDK.Dyvmsapi20170525.Models.IvrCallRequest
    {
        // 被叫号码。仅支持中国大陆号码。单次请求仅支持一个号码。
        CalledNumber = "05715621xx",
        // 被叫号码。仅支持中国大陆号码。单次请求仅支持一个号码。
        CalledNumber = "1500000xx",
        // 呼叫开始时播放的提示音。
        // 语音文件：语音ID。可以在文本转语音模板页面查看语音ID。
        // 文本转语音模板：模板ID。可以在文本转语音模板页面查看模板ID。
        StartCode = "TTS_713900000",
        // 文本转语音模板内的变量参数，格式为JSON。
        // 当StartCode为文本转语音模板（TTS）、且模板中带变量的情况下此参数为必选。
        StartTtsParams = "{\"product\":\"aliyun\",\"code\":\"123\"}",
    };
    AlibabaCloud.SDK.Dyvmsapi20170525.Models.IvrCallResponse response = client.IvrCall(request);
}

}

}

// This file is auto-generated. don't edit it
