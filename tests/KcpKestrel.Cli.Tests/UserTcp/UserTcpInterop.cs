namespace KcpKestrel.Cli.Tests.UserTcp;

/// <summary>What the interop tests need of the machine, and the one place that says when it is missing.</summary>
internal static class UserTcpInterop
{
    /// <summary>Why these tests cannot run here (no root, no iproute2, no TUN, no curl when asked), or null.</summary>
    public static string? Unavailable(bool curl = false)
    {
        if (NetNamespace.Unavailable() is { } reason)
        {
            return reason;
        }

        if (curl && !File.Exists("/usr/bin/curl") && !File.Exists("/bin/curl"))
        {
            return "curl is not installed: apt-get install curl (.ci/run does it)";
        }

        return null;
    }
}
