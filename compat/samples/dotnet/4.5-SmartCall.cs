response = client.SmartCall(request);
}
}

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
            AlibabaCloud.RPCClient.Models.Config config = new AlibabaCloud.RPCClient.Models.Config()
            ;
            config.AccessKeyId = accessKeyId;
            config.AccessKeySecret = accessKeySecret;
            config.RegionId = regionId;
        }

        public static void Main(string[] args)
        {
            AlibabaCloud.SDK.Dyvmsapi20170525.Client client = Client.CreateClient("accessKeyId", "accessKeySecret", "regionId");
            AlibabaCloud.SDK.Dyvmsapi20170525.Models.SmartCallRequest request = new AlibabaCloud.SDK.Dyvmsapi20170525.Models.SmartCallRequest
            {
                CalledShowNumber = "0633676xx",
                CalledNumber = "10xx",
            }
        }
    }
}
    VoiceCode = "3355eedd-3706-4f75-bff9-e645e88e1730.wav",
    PauseTime = 800,
    MuteTime = 10000,
    ActionCodeBreak = false,
};
AlibabaCloud.SDK.Dyvmsapi20170525.Models.SmartCallResponse response = client.SmartCa
ll(request);
}

}
}
