using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Reflection;
using KcpKestrel.Cli.Commands;
using KcpKestrel.Cli.Serve;
using KcpKestrel.Cli.Tests.Infrastructure;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Sessions;
using KcpKestrel.Transport.Tcp;

namespace KcpKestrel.Cli.Tests;

public sealed class FlagTests
{
    [Theory]
    [InlineData(new[] { "bench", "--kcp", "127.0.0.1:4000", "--workload", "bogus" }, "--workload 'bogus' is not valid; accepted: bulk, echo, pingpong, sessions, http, grpc, udpblast.")]
    [InlineData(new[] { "bench", "--kcp", "127.0.0.1:4000", "--workload", "http", "--conn", "2" }, "--conn applies only with --smux")]
    [InlineData(new[] { "bench", "--kcp", "127.0.0.1:4000", "--workload", "http", "--autoexpire", "30" }, "--autoexpire applies only with --smux")]
    [InlineData(new[] { "bench", "--kcp", "127.0.0.1:4000", "--workload", "http", "--smux", "--conn", "0" }, "--conn '0' is not valid; accepted: a whole number from 1 to 256.")]
    [InlineData(new[] { "bench", "--kcp", "127.0.0.1:4000", "--workload", "echo", "--smux", "--nocomp", "--compression", "snappy" }, "--nocomp conflicts with --compression Snappy.")]
    [InlineData(new[] { "bench", "--tcp", "127.0.0.1:4000", "--workload", "echo", "--smux" }, "--smux applies only with --kcp.")]
    [InlineData(new[] { "bench", "--kcp", "127.0.0.1:4000", "--workload", "http", "--concurrency", "0" }, "--concurrency '0' is not valid")]
    [InlineData(new[] { "bench", "--kcp", "127.0.0.1:4000", "--workload", "echo", "--crypt", "rot13" }, "--crypt 'rot13' is not valid; accepted: aes, aes-128, aes-192, salsa20, blowfish, twofish, cast5, 3des, tea, xtea, xor, sm4, none, null, aes-128-gcm, aes-256-gcm, chacha20-poly1305.")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--mode", "turbo" }, "--mode 'turbo' is not valid; accepted: normal, fast, fast2, fast3, manual.")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--mtu", "50" }, "--mtu '50' is not valid; accepted: 100 to 1500 bytes.")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--sndwnd", "many" }, "--sndwnd 'many' is not valid; accepted: 1 to 65535 segments.")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--dead-link", "0" }, "--dead-link '0' is not valid; accepted: 1 to 1000 retransmissions.")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--idle-timeout", "0" }, "--idle-timeout '0' is not valid; accepted: a positive time in seconds.")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--read-buffer", "1K" }, "--read-buffer '1K' is not valid; accepted: 4096 bytes or more")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--stream-mode", "maybe" }, "--stream-mode 'maybe' is not valid; accepted: true or false (1 or 0).")]
    [InlineData(new[] { "bench", "--kcp", "127.0.0.1:4000", "--workload", "echo", "--max-sessions", "5" }, "--max-sessions")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--app", "ftp" }, "--app 'ftp' is not valid; accepted: echo, sink, http, grpc.")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--udp-io", "kqueue" }, "--udp-io 'kqueue' is not valid; accepted: iouring, epoll, native, socket.")]
    [InlineData(new[] { "serve", "--kcp", "nowhere" }, "--kcp: 'nowhere' has no port")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--tcp-engine", "uring" }, "--tcp-engine 'uring' is not valid; accepted: iouring, epoll, sockets.")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--tcp-engine", "iouring", "--tcp-architecture", "star" }, "--tcp-architecture 'star' is not valid; accepted: sharding, reactor.")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--tcp-workers", "0" }, "--tcp-workers '0' is not valid; accepted: a whole number from 1 to 1024.")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--tcp-engine", "epoll", "--tcp-architecture", "reactor" }, "--tcp-architecture applies only with --tcp-engine iouring (the engine is epoll).")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--tcp-engine", "sockets", "--tcp-sqpoll" }, "--tcp-sqpoll applies only with --tcp-engine iouring (the engine is sockets).")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--tcp-engine", "epoll", "--tcp-affinity" }, "--tcp-affinity applies only with --tcp-engine iouring (the engine is epoll).")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--tcp-engine", "sockets", "--tcp-workers", "2" }, "--tcp-workers applies only with --tcp-engine epoll or iouring")]
    [InlineData(new[] { "bench", "--tcp", "127.0.0.1:1", "--workload", "bulk", "--bytes", "12Q" }, "--bytes '12Q' is not valid")]
    [InlineData(new[] { "relay", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:1", "--loss", "1.5" }, "--loss '1.5' is not valid; accepted: a probability from 0 to 1 (0.05 is 5%).")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--datashard", "10", "--parityshard", "0" }, "--datashard/--parityshard 10/0 is not valid; accepted: both above 0 for FEC, or both 0 for none.")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--mode", "fast", "--nodelay", "1" }, "--nodelay applies only with --mode manual")]
    [InlineData(new[] { "bench", "--workload", "echo" }, "bench needs exactly one of --kcp HOST:PORT or --tcp HOST:PORT.")]
    [InlineData(new[] { "bench", "--kcp", "127.0.0.1:1", "--tcp", "127.0.0.1:2", "--workload", "echo" }, "bench needs exactly one of --kcp HOST:PORT or --tcp HOST:PORT.")]
    [InlineData(new[] { "serve" }, "--kcp")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--frobnicate" }, "--frobnicate")]
    public async Task BadFlags_ExitWithTwo_AndNameTheFlag(string[] args, string expected)
    {
        var (code, output, error) = await CliRunner.RunAsync(args);
        Assert.Equal(2, code);
        Assert.Empty(output.Lines);
        Assert.Contains(expected, error.Lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void EveryCryptMode_MapsOntoKcpOptions()
    {
        foreach (var crypt in KcpCrypt.Names)
        {
            var options = Build("--crypt", crypt, "--key", "k");
            Assert.Equal(crypt, options.Crypt);
            options.Validate();
        }
    }

    [Fact]
    public void KcptunFlags_MapOntoKcpOptions()
    {
        var options = Build(
            "--crypt", "salsa20", "--key", "secret", "--nodelay", "1", "--interval", "15", "--resend", "3", "--nc", "0",
            "--sndwnd", "512", "--rcvwnd", "2048", "--mtu", "1200", "--datashard", "5", "--parityshard", "2", "--sockbuf", "1048576");
        Assert.Equal(KcpMode.Manual, options.Mode);
        Assert.Equal(("salsa20", "secret"), (options.Crypt, options.Key));
        Assert.Equal((1, 15, 3, false), (options.NoDelay, options.Interval, options.Resend, options.NoCongestionControl));
        Assert.Equal((512, 2048, 1200), (options.SendWindow, options.ReceiveWindow, options.Mtu));
        Assert.Equal((5, 2, 1048576), (options.DataShards, options.ParityShards, options.SocketBufferSize));
    }

    [Fact]
    public void Defaults_AreKcptuns()
    {
        var options = Build();
        Assert.Equal(KcpMode.Fast, options.Mode);
        Assert.Equal(("aes", KcpFlags.DefaultKey), (options.Crypt, options.Key));
        Assert.Equal((10, 3), (options.DataShards, options.ParityShards));
    }

    [Theory]
    [InlineData("fast3", KcpMode.Fast3)]
    [InlineData("NORMAL", KcpMode.Normal)]
    public void Modes_AreCaseInsensitive(string mode, KcpMode expected) => Assert.Equal(expected, Build("--mode", mode).Mode);

    [Fact]
    public void EverySettingHasADescriptorAndAServeFlag()
    {
        var properties = new List<string>();
        foreach (var property in typeof(KcpOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.CanWrite)
            {
                properties.Add(property.Name);
            }
        }

        var described = new List<string>();
        foreach (var setting in KcpSettings.All)
        {
            described.Add(setting.Name);
        }

        Assert.Equal(properties.Order(StringComparer.Ordinal), described.Order(StringComparer.Ordinal));

        var serve = ServeCommand.Create(new CliIo(TextWriter.Null, TextWriter.Null, null, false));
        var bench = BenchCommand.Create(new CliIo(TextWriter.Null, TextWriter.Null, null, false));
        foreach (var setting in KcpSettings.All)
        {
            Assert.Contains(serve.Options, o => o.Name == setting.Flag);
            Assert.Equal(!setting.ListenerOnly, bench.Options.Any(o => o.Name == setting.Flag));
        }
    }

    [Fact]
    public async Task CommandLineValuesReachTheOptionsServeUses()
    {
        var options = Build(
            "--mode", "fast2", "--crypt", "aes-256-gcm", "--key", "k", "--sndwnd", "300", "--rcvwnd", "400", "--mtu", "1200",
            "--datashard", "4", "--parityshard", "2", "--sockbuf", "1048576", "--stream-mode", "false", "--dead-link", "33",
            "--idle-timeout", "7.5", "--io-loops", "1", "--max-sessions", "77", "--accept-queue", "9", "--new-sessions-per-second", "0",
            "--tombstone-lifetime", "2", "--read-buffer", "64K", "--write-buffer", "2M");
        Assert.Equal((false, 33), (options.StreamMode, options.DeadLink));
        Assert.Equal((TimeSpan.FromSeconds(7.5), TimeSpan.FromSeconds(2)), (options.IdleTimeout, options.TombstoneLifetime));
        Assert.Equal((64L << 10, 2L << 20), (options.MaxReadBufferSize, options.MaxWriteBufferSize));
        Assert.Equal((1, 77, 9, 0), (options.IoLoopCount, options.MaxSessions, options.AcceptQueueDepth, options.NewSessionsPerSecond));

        await using var host = await ServeHost.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), null, "echo", options, TcpServeOptions.Default, CancellationToken.None);
        Assert.NotNull(host.KcpOptions);
        Assert.NotSame(options, host.KcpOptions);
        foreach (var setting in KcpSettings.All)
        {
            Assert.Equal(setting.Get(options), setting.Get(host.KcpOptions));
        }
    }

    [Fact]
    public void ValuesJustOutsideTheRangeNameTheFlagAndTheRange()
    {
        foreach (var setting in KcpSettings.All)
        {
            if (setting.Kind is not (KcpSettingKind.Int32 or KcpSettingKind.Int64))
            {
                continue;
            }

            var below = (setting.Min - 1).ToString(CultureInfo.InvariantCulture);
            var result = Parse(setting.Flag, below);
            var error = Assert.Single(result.Errors);
            Assert.StartsWith($"{setting.Flag} '{below}' is not valid; accepted: {setting.Accepted}", error.Message, StringComparison.Ordinal);
            if (setting.Max < int.MaxValue)
            {
                var above = (setting.Max + 1).ToString(CultureInfo.InvariantCulture);
                Assert.Contains(setting.Accepted, Assert.Single(Parse(setting.Flag, above).Errors).Message, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void HelpShowsTheDefaultOfTheSetting()
    {
        var flags = new KcpFlags();
        foreach (var option in flags.Options)
        {
            Assert.Contains("; default ", option.Description, StringComparison.Ordinal);
        }

        Assert.Contains(flags.Options, o => o.Name == "--mtu" && o.Description!.Contains("default 1350", StringComparison.Ordinal));
        Assert.Contains(flags.Options, o => o.Name == "--idle-timeout" && o.Description!.Contains("default 60", StringComparison.Ordinal));
    }

    [Fact]
    public void ConfigurationDocsListEverySetting()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "KcpKestrel.sln")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        var docs = File.ReadAllText(Path.Combine(directory.FullName, "docs", "configuration.md"));
        foreach (var setting in KcpSettings.All)
        {
            Assert.Contains($"| `{setting.Name}` | `{setting.Flag}` | {setting.Accepted} | {setting.DefaultText} |", docs, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ManualFlagsAloneImplyManualMode()
    {
        var options = Build("--interval", "15");
        Assert.Equal((KcpMode.Manual, 15), (options.Mode, options.Interval));
        Assert.Equal(KcpMode.Manual, Build("--mode", "manual", "--nc", "false").Mode);
    }

    [Theory]
    [InlineData("64M", 64L << 20)]
    [InlineData("4k", 4096)]
    [InlineData("1G", 1L << 30)]
    [InlineData("1234", 1234)]
    public void ByteCounts_TakeBinarySuffixes(string text, long expected)
    {
        Assert.True(Flags.TryParseBytes(text, out var value));
        Assert.Equal(expected, value);
    }

    [Fact]
    public async Task Help_ListsTheCommands()
    {
        var (code, output, _) = await CliRunner.RunAsync("--help");
        Assert.Equal(0, code);
        foreach (var command in new[] { "serve", "bench", "relay", "demo" })
        {
            Assert.Contains(output.Lines, l => l.TrimStart().StartsWith(command, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("iouring", "IoUring")]
    [InlineData("epoll", "Native")]
    [InlineData("native", "Native")]
    [InlineData("socket", "Socket")]
    public void UdpIo_Named_ForcesThatPathOnTheOptions(string name, string mode)
    {
        Assert.Equal(Enum.Parse<Transport.Kcp.Io.Datagrams.UdpIoMode>(mode), Build("--udp-io", name).IoOverrides.Mode);
        Assert.Null(Build().IoOverrides.Mode);
    }

    private static ParseResult Parse(params string[] flags)
    {
        var command = new RootCommand();
        new KcpFlags().AddTo(command);
        return command.Parse(flags);
    }

    private static KcpOptions Build(params string[] flags)
    {
        var kcpFlags = new KcpFlags();
        var command = new RootCommand();
        kcpFlags.AddTo(command);
        var result = command.Parse(flags);
        Assert.Empty(result.Errors);
        return kcpFlags.Build(result);
    }

    [Fact]
    public void TcpFlags_MapOntoTunedTcpOptions()
    {
        var tcp = BuildTcp("--tcp-engine", "iouring", "--tcp-architecture", "reactor", "--tcp-workers", "3", "--tcp-affinity", "--tcp-sqpoll");
        Assert.Equal("iouring", tcp.Engine);
        var tuned = tcp.Tuned!;
        Assert.Equal((TcpEngine.IoUring, IoUringArchitecture.Reactor, 3), (tuned.Engine, tuned.Architecture, tuned.AcceptLoops));
        Assert.Equal((true, true), (tuned.CpuAffinity, tuned.SqPoll));
        Assert.Null(BuildTcp("--tcp-engine", "sockets").Tuned);
        Assert.Equal(TcpEngine.Epoll, BuildTcp("--tcp-engine", "EPOLL").Tuned!.Engine);
    }

    [Fact]
    public void TcpEngine_Default_IsTheOneConstant()
    {
        var tcp = BuildTcp();
        Assert.Equal(TcpServeOptions.DefaultEngine, tcp.Engine);
        Assert.Equal(tcp, TcpServeOptions.Default with { Tuned = tcp.Tuned });
    }

    private static TcpServeOptions BuildTcp(params string[] flags)
    {
        var tcpFlags = new TcpFlags();
        var command = new RootCommand();
        tcpFlags.AddTo(command);
        var result = command.Parse(flags);
        Assert.Empty(result.Errors);
        return tcpFlags.Build(result);
    }
}
