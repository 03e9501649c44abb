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
            // 您的AccessKey ID
            config.AccessKeyId = accessKeyId;
            // 您的AccessKey Secret
            config.AccessKeySecret = accessKeySecret;
            // 您的可用区ID
            config.RegionId = regionId;
            return new AlibabaCloud.SDK.Dyvmsapi20170525.Client(config);
        }
    }
}
}

/**
 * @param args
 * @throws Exception
 */
public static void Main(string[] args)
{
    AlibabaCloud.SDK.Dyvmsapi20170525.Client client = Client.CreateClient("accessKeyId", "accessKeySecret", "regionId");
    AlibabaCloud.SDK.Dyvmsapi20170525.Models.SingleCallByVoiceRequest request = new AlibabaCloud.SDK.Dyvmsapi20170525.Models.SingleCallByVoiceRequest
    {
        // 被叫显号，若您使用的模板为公共号池号码外呼模板，则该字段值必须为空；
        // 若您使用的模板为专属号码外呼模板，则必须传入已购买的号码，仅支持一个号码，您可以在语音服务控制台上查看已购买的号码。
        CalledShowNumber = "18850xxxx",
        // 被叫号码。仅支持中国内地号码。一次请求仅支持一个被叫号。
        CalledNumber = "15750xxxx",
        // 语音文件的语音ID。
        VoiceCode = "e271f3f2-e155-4366-a9f4-0fe55765b3ec.wav",
    };
    AlibabaCloud.SDK.Dyvmsapi20170525.Models.SingleCallByVoiceResponse response = client.SingleCallByVoice(request);
    AlibabaCloud.TeaConsole.Client.Log(response.Message);
}

}
}
