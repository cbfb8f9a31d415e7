using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests;

/// <summary>serve's --usertcp flag as the command line sees it (the real device is exercised by the UserTcp interop tests, in their own namespaces).</summary>
public sealed class ServeUserTcpFlagTests
{
    [Theory]
    [InlineData("tun=ut0,address=10.77.0.1/33,port=8080", "prefix length of 33")]
    [InlineData("tun=ut0,address=10.77.0.1/24", "tun, address and port are required")]
    [InlineData("tun=ut0,address=10.77.0.1/24,port=0", "port 0 is not valid for serve")]
    [InlineData("tun=ut0,address=10.77.0.1/24,port=80,color=red", "unknown key 'color'")]
    public async Task ABadSpecIsAOneLineUsageError(string spec, string because)
    {
        var (code, _, error) = await CliRunner.RunAsync("serve", "--usertcp", spec);

        Assert.Equal(CliApp.UsageExitCode, code);
        var line = Assert.Single(error.Lines);
        Assert.StartsWith("kcpkestrel: --usertcp: ", line, StringComparison.Ordinal);
        Assert.Contains(because, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServeNeedsKcpOrUserTcp()
    {
        var (code, _, error) = await CliRunner.RunAsync("serve", "--app", "http");

        Assert.Equal(CliApp.UsageExitCode, code);
        Assert.Contains("serve needs --kcp or --usertcp", Assert.Single(error.Lines), StringComparison.Ordinal);
    }
}
