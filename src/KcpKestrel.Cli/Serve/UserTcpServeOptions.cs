using System.CommandLine;
using KcpKestrel.Transport.UserTcp;

namespace KcpKestrel.Cli.Serve;

/// <summary>
/// serve's <c>--usertcp tun=NAME,address=ADDRESS/PREFIX,port=PORT[,peer=ADDRESS][,queues=N]</c>: the user-space TCP
/// endpoint, its TUN device created and configured by serve itself.
/// </summary>
internal static class UserTcpServeOptions
{
    public const string FlagName = "--usertcp";

    /// <summary>Keys serve reads beyond the endpoint's own (none yet); the spec parser passes them through.</summary>
    public static readonly string[] ExtraKeys = [];

    public static Option<UserTcpEndPoint?> Flag() =>
        new(FlagName)
        {
            Description = "Serve the same app with the user-space TCP stack on a TUN device serve creates (needs root or CAP_NET_ADMIN): the stack answers at ADDRESS, the device (the kernel's side) gets PEER (default: the first other host address of the prefix)",
            HelpName = "tun=NAME,address=ADDRESS/PREFIX,port=PORT[,peer=ADDRESS][,queues=N]",
            CustomParser = r =>
            {
                var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : string.Empty;
                try
                {
                    return Parse(text);
                }
                catch (FormatException e)
                {
                    r.AddError($"{FlagName}: {e.Message}");
                    return null;
                }
            },
        };

    /// <summary>Parses the spec (a listener needs a port: 0 is refused here).</summary>
    public static UserTcpEndPoint Parse(string text)
    {
        var endPoint = UserTcpEndPoint.Parse(text, ExtraKeys);
        if (endPoint.Port == 0)
        {
            throw new FormatException($"'{text}': port 0 is not valid for serve; accepted: 1 to 65535.");
        }

        return endPoint;
    }
}
