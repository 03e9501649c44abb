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
            AlibabaCloud.SDK.Dyvmsapi20170525.Models.QueryCallDetailByCallIdRequest request = new AlibabaCloud.SDK.Dyvmsapi20170525.Models.QueryCallDetailByCallIdRequest
            {
                CallId = "100625930001^10019107xx",
                ProdId = 11000000300004,
                QueryDate = 1577255564,
            };
            AlibabaCloud.SDK.Dyvmsapi20170525.Models.QueryCallDetailByCallIdResponse response = client.QueryCallDetailByCallId(request);
        }
    }
}
}
}
