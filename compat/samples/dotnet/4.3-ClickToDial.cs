// This file is auto-generated, don't edit it. Thanks.

using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;

using Tea;
using Tea.Utils;

namespace AlibabaCloud.SDK.Dyvmsapi20170525:*
{
    public class Client
    {

        // 使用AK&SK初始化账号Client
        public static AlibabaCloud.SDK.Dyvmsapi20170525.Client CreateClient(string accessKeyId, string accessKeySecret, string regionId)
        {
            AlibabaCloud.RPCClient.Models.Config config = new AlibabaCloud.RPCClient.Models.Config();
            ;
            config.AccessKeyId = accessKeyId;
            config.AccessKeySecret = accessKeySecret;
            config.RegionId = regionId;
        }

        public static void Main(string[] args)
        {
            AlibabaCloud.SDK.Dyvmsapi20170525.Client client = Client.CreateClient("accessKeyId", "accessKeySecret", "regionId");
            AlibabaCloud.SDK.Dyvmsapi20170525.Models.ClickToDialRequest request = new AlibabaCloud.SDK.Dyvmsapi20170525.Models.ClickToDialRequest
            {
                CallerShowNumber = "123xxxx",
                CallerNumber = "1575xxxx",
                CalledShowNumber = "12xxxx",
                CalledNumber = "1885xxxx",
            };
            AlibabaCloud.SDK.Dyvmsapi20170525.Models.ClickToDialResponse response = client.ClickTo
Dial(request);
}

}
}
