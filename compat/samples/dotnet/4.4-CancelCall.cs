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
    AlibabaCloud.RPCClient.Models.Config config = new AlibabaCloud.RPCClient.Models.Config();
    ;
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
    AlibabaCloud.SDK.Dyvmsapi20170525.Models.CancelCallRequest request = new AlibabaCloud.SDK.Dyvmsapi20170525.Models.CancelCallRequest
    {
        // 通话的唯一回执ID。
        CallId = "117059405036^10385912xx",
    };
    // 发起请求
    AlibabaCloud.SDK.Dyvmsapi20170525.Models.CancelCallResponse response = client.CancelCall(request);
}

}
}
// This file is auto-generated, don't edit it
