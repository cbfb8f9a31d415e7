using System.CommandLine;
using KcpKestrel.Cli.Commands;
using KcpKestrel.Cli.Tests.Infrastructure;
using KcpKestrel.Transport.Kcp;

namespace KcpKestrel.Cli.Tests;

public sealed class FlagTests
{
    [Theory]
    [InlineData(new[] { "bench", "--kcp", "127.0.0.1:4000", "--workload", "bogus" }, "--workload 'bogus' is not valid; accepted: bulk, echo, pingpong, sessions, udpblast.")]
    [InlineData(new[] { "bench", "--kcp", "127.0.0.1:4000", "--workload", "echo", "--crypt", "rot13" }, "--crypt 'rot13' is not valid; accepted: aes, aes-128, aes-192, salsa20, blowfish, twofish, cast5, 3des, tea, xtea, xor, sm4, none, null, aes-128-gcm, aes-256-gcm, chacha20-poly1305.")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--mode", "turbo" }, "--mode 'turbo' is not valid; accepted: normal, fast, fast2, fast3, manual.")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--mtu", "50" }, "--mtu '50' is not valid; accepted: 100 to 1500 bytes.")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--sndwnd", "many" }, "--sndwnd 'many' is not valid; accepted: a whole number from 1 to 65535.")]
    [InlineData(new[] { "serve", "--kcp", "127.0.0.1:0", "--app", "ftp" }, "--app 'ftp' is not valid; accepted: echo, sink, http.")]
    [InlineData(new[] { "serve", "--kcp", "nowhere" }, "--kcp: 'nowhere' has no port")]
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
        foreach (var crypt in KcpFlags.CryptNames)
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

    private static KcpOptions Build(params string[] flags)
    {
        var kcpFlags = new KcpFlags();
        var command = new RootCommand();
        kcpFlags.AddTo(command);
        var result = command.Parse(flags);
        Assert.Empty(result.Errors);
        return kcpFlags.Build(result);
    }
}
