namespace KcpKestrel.Interop.Tests;

public sealed class GoToolchainTests
{
    [Fact]
    public void KcpGoPeerToolchain_IsInstalled()
    {
        Assert.True(GoToolchain.FindGo() is not null, GoToolchain.InstallHint);
        Assert.True(File.Exists(Path.Combine(GoToolchain.KcpGoSource, "kcp.go")), GoToolchain.InstallHint);
        var version = GoToolchain.Run(Path.GetTempPath(), "version");
        Assert.StartsWith("go version go1.", version, StringComparison.Ordinal);
    }
}
