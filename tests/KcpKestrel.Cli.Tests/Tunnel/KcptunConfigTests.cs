using System.CommandLine;
using KcpKestrel.Cli.Tunnel;
using KcpKestrel.Transport.Kcp;

namespace KcpKestrel.Cli.Tests.Tunnel;

public sealed class KcptunConfigTests
{
    [Fact]
    public void Read_NoFlags_IsKcptunServerDefaults()
    {
        var config = Read(TunnelSide.Server);
        Assert.Equal(":29900", config.Listen);
        Assert.Equal("127.0.0.1:12948", config.Target);
        var options = KcptunOptions.ToKcpOptions(config, []);
        Assert.Equal((1024, 1024), (options.SendWindow, options.ReceiveWindow));
        Assert.Equal(("aes", "it's a secrect", KcpMode.Fast), (options.Crypt, options.Key, options.Mode));
        Assert.Equal((10, 3, 1350), (options.DataShards, options.ParityShards, options.Mtu));
        Assert.Equal((KcpMultiplexing.Smux, KcpCompression.Snappy), (options.Multiplexing, options.Compression));
        Assert.Equal((1, 4194304, 2097152, TimeSpan.FromSeconds(10)), (options.SmuxVersion, options.SmuxBuffer, options.StreamBuffer, options.SmuxKeepAlive));
        Assert.Equal(4194304, options.SocketBufferSize);
    }

    [Fact]
    public void Read_NoFlags_IsKcptunClientDefaults()
    {
        var config = Read(TunnelSide.Client);
        Assert.Equal((":12948", "vps:29900"), (config.LocalAddr, config.RemoteAddr));
        var options = KcptunOptions.ToKcpOptions(config, []);
        Assert.Equal((128, 512), (options.SendWindow, options.ReceiveWindow));
        var client = KcptunOptions.ToClientOptions(config, options);
        Assert.Equal((1, TimeSpan.Zero, TimeSpan.FromSeconds(600)), (client.SessionsPerEndpoint, client.AutoExpire, client.ScavengeTtl));
    }

    [Theory]
    [InlineData("-listen", "--target")]
    [InlineData("--listen", "-target")]
    [InlineData("-l", "-t")]
    [InlineData("--l", "--t")]
    public void Read_OneOrTwoDashesAndShortAliases_AreTheSameFlag(string listen, string target)
    {
        var config = Read(TunnelSide.Server, listen, "127.0.0.1:1", target, "127.0.0.1:2", "-ds", "4", "--ps", "2");
        Assert.Equal(("127.0.0.1:1", "127.0.0.1:2"), (config.Listen, config.Target));
        Assert.Equal((4, 2), (config.DataShard, config.ParityShard));
    }

    [Fact]
    public void Read_BoolFlags_AloneOrWithGoValues()
    {
        Assert.True(Read(TunnelSide.Client, "--nocomp").NoComp);
        Assert.True(Read(TunnelSide.Client, "-nocomp=true", "-quiet").Quiet);
        Assert.False(Read(TunnelSide.Client, "--nocomp=false").NoComp);
        Assert.Equal(KcpCompression.None, KcptunOptions.ToKcpOptions(Read(TunnelSide.Client, "-nocomp=1"), []).Compression);
    }

    [Fact]
    public void Read_ConfigFile_OverridesFlagsAndKeepsTheRest()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, """{"remoteaddr":"127.0.0.1:4000","SndWnd":64,"nocomp":true,"unknown":1,"listen":"ignored on the client"}""");
            var config = Read(TunnelSide.Client, "--remoteaddr", "10.0.0.1:1", "--sndwnd", "256", "--rcvwnd", "300", "-c", path);
            Assert.Equal(("127.0.0.1:4000", 64, 300, true), (config.RemoteAddr, config.SendWindow, config.ReceiveWindow, config.NoComp));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Read_QppFlagsAndJsonKeys_AsCurrentKcptun()
    {
        Assert.Equal((true, 7), Read(TunnelSide.Server, "-QPP", "--QPPCount", "7") is var flags ? (flags.Qpp, flags.QppCount) : default);
        Assert.Equal((false, 61), Read(TunnelSide.Client) is var defaults ? (defaults.Qpp, defaults.QppCount) : default);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, """{"qpp":true,"qpp-count":13}""");
            var config = Read(TunnelSide.Client, "-c", path);
            Assert.Equal((true, 13), (config.Qpp, config.QppCount));
            Assert.True(KcptunOptions.ToKcpOptions(config, []).Qpp);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("""{"sndwnd":"many"}""", "\"sndwnd\" is \"many\"; expected a whole number.")]
    [InlineData("""{"nocomp":1}""", "\"nocomp\" is 1; expected true or false.")]
    [InlineData("""[1]""", "expected a JSON object")]
    [InlineData("""{"mtu":""", "not valid JSON")]
    public void Apply_BadJson_NamesTheKey(string json, string expected)
    {
        var error = Assert.Throws<UsageException>(() => KcptunJson.Apply(new KcptunConfig(TunnelSide.Server), json, "c.json"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToKcpOptions_ManualMode_UsesKcptunsHiddenDefaults()
    {
        var options = KcptunOptions.ToKcpOptions(Read(TunnelSide.Server, "--mode", "manual"), []);
        Assert.Equal((KcpMode.Manual, 0, 50, 0, false), (options.Mode, options.NoDelay, options.Interval, options.Resend, options.NoCongestionControl));
        Assert.Equal("0 50 0 0", KcptunOptions.NoDelayParameters(options));

        options = KcptunOptions.ToKcpOptions(Read(TunnelSide.Server, "--mode", "manual", "--nodelay", "1", "--interval", "10", "--resend", "2", "--nc", "1"), []);
        Assert.Equal("1 10 2 1", KcptunOptions.NoDelayParameters(options));
    }

    [Fact]
    public void ToKcpOptions_NamedModeWithManualFlags_ModeWinsAsInKcptun()
    {
        var options = KcptunOptions.ToKcpOptions(Read(TunnelSide.Server, "--mode", "fast2", "--nodelay", "0", "--interval", "100"), []);
        Assert.Equal("1 20 2 1", KcptunOptions.NoDelayParameters(options));
    }

    [Theory]
    [InlineData("--mode", "turbo", "--mode 'turbo' is not a profile")]
    [InlineData("--crypt", "rot13", "--crypt 'rot13' is not a cipher kcptun knows; using aes")]
    [InlineData("--dscp", "46", "--dscp 46 is accepted but not applied")]
    [InlineData("--snmplog", "snmp.log", "--snmplog is accepted")]
    public void ToKcpOptions_WhatKcptunToleratesOrWeDoNotApply_IsANote(string flag, string value, string expected)
    {
        var notes = new List<string>();
        KcptunOptions.ToKcpOptions(Read(TunnelSide.Server, flag, value), notes);
        Assert.Contains(notes, n => n.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(new[] { "--tcp" }, "--tcp (KCP over emulated TCP, tcpraw) is not supported")]
    [InlineData(new[] { "--smuxver", "3" }, "unsupported smux version: 3")]
    [InlineData(new[] { "--sndwnd", "0" }, "--sndwnd 0 is not valid; accepted: 1 to 65535 segments.")]
    [InlineData(new[] { "--keepalive", "0" }, "--keepalive")]
    [InlineData(new[] { "--datashard", "10", "--parityshard", "0" }, "--datashard/--parityshard 10/0 is not valid")]
    public void ToKcpOptions_WhatWouldChangeTheWireOrIsOutOfRange_IsRefusedWithTheFlag(string[] args, string expected)
    {
        var error = Assert.Throws<UsageException>(() => KcptunOptions.ToKcpOptions(Read(TunnelSide.Server, args), []));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToClientOptions_ConnOutOfRange_NamesConn()
    {
        var config = Read(TunnelSide.Client, "--conn", "0");
        var error = Assert.Throws<UsageException>(() => KcptunOptions.ToClientOptions(config, KcptunOptions.ToKcpOptions(config, [])));
        Assert.StartsWith("--conn", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tunnel_BadFlag_ExitsWithTwoNamingIt()
    {
        var (code, _, error) = await Infrastructure.CliRunner.RunAsync("tunnel", "client", "--sndwnd", "lots");
        Assert.Equal(2, code);
        Assert.Contains("--sndwnd 'lots' is not valid", error.Lines[0], StringComparison.Ordinal);
    }

    private static KcptunConfig Read(TunnelSide side, params string[] args)
    {
        var flags = new KcptunFlags(side);
        var command = new RootCommand();
        flags.AddTo(command);
        var result = command.Parse(args);
        Assert.Empty(result.Errors);
        return flags.Read(result);
    }
}
