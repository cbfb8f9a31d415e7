using System.Globalization;
using System.Net;
using System.Text;

namespace KcpKestrel.Cli.Tests.UserTcp;

/// <summary>
/// Hostile packets written straight into the stack's TUN device (<see cref="TunTap"/>) while a real kernel client
/// holds a kept-alive connection: each kind is dropped and counted under its reason in the stop JSON, the server
/// neither crashes nor grows, and the live connection still answers afterwards. Needs root and iproute2.
/// </summary>
public sealed class HostilePacketTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Each = 50;
    private static readonly IPAddress Spoofed = IPAddress.Parse("10.77.0.50");

    [Fact]
    public async Task MalformedPackets_EachDroppedUnderItsReason_LiveConnectionSurvives()
    {
        if (UserTcpInterop.Unavailable() is { } reason)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();
        await using var serve = await UserTcpServe.StartAsync(ns, "http");
        using var live = await KeepAliveHttp.OpenAsync(ns);
        await live.AssertAliveAsync();
        using var tap = TunTap.Open(ns);

        for (var i = 0; i < Each; i++)
        {
            var port = (ushort)(40000 + i);
            tap.Send(Syn(port) with { SpoilTcpChecksum = true });
            tap.Send(Syn(port) with { SpoilIpChecksum = true });
            tap.Send(Syn(port) with { FragmentField = 0x2000 });
            tap.Send(Syn(port) with { FragmentField = 0x0010 });
            tap.Send(Syn(port) with { Options = [2, 0, 0, 0] });
            tap.Send(Syn(port) with { Options = [3, 1, 0, 0] });
            tap.Send(Syn(port) with { Options = [1, 2, 40, 5, 180] });
            tap.Send(Syn(port) with { Options = [2, 3, 5, 1] });
            tap.Send(Syn(port) with { DataOffsetWords = 15 });
        }

        await live.AssertAliveAsync();
        await live.CloseAsync();
        var report = await serve.StopAsync();
        output.WriteLine(report.ToString());
        Assert.True(UserTcpServe.Counter(report, "bad_tcp_checksum") >= Each, $"bad TCP checksums in {report}");
        Assert.True(UserTcpServe.Counter(report, "bad_ip_checksum") >= Each, $"bad IP checksums in {report}");
        Assert.True(UserTcpServe.Counter(report, "fragment") >= 2 * Each, $"fragments in {report}");
        Assert.True(UserTcpServe.Counter(report, "bad_options") >= 4 * Each, $"forged options in {report}");
        Assert.True(UserTcpServe.Counter(report, "bad_tcp_header") >= Each, $"bad data offsets in {report}");
        Assert.Equal(1, UserTcpServe.Counter(report, "passiveOpens"));

        // Back to no connections before the stop: nothing was left for it to abort.
        Assert.Equal(0, UserTcpServe.Counter(report, "aborted"));
    }

    [Fact]
    public async Task RstSynAndAckInjectionIntoALiveConnection_IgnoredOrChallenged_ConnectionSurvives()
    {
        if (UserTcpInterop.Unavailable() is { } reason)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();
        await using var serve = await UserTcpServe.StartAsync(ns, "http");
        using var live = await KeepAliveHttp.OpenAsync(ns);
        using var tap = TunTap.Open(ns);
        await live.AssertAliveAsync();
        var kernel = live.Local.Address.GetAddressBytes();
        var port = (ushort)live.Local.Port;

        // The stack's reply shows where both sequence spaces stand: its ACK is RCV.NXT, its end SND.NXT.
        var reply = tap.Receive(kernel, p => RawSegment.DestinationPortOf(p) == port && RawSegment.PayloadLengthOf(p) > 0, TimeSpan.FromSeconds(5));
        Assert.NotNull(reply);
        var rcvNxt = RawSegment.AcknowledgmentOf(reply);
        var sndNxt = RawSegment.SequenceOf(reply) + (uint)RawSegment.PayloadLengthOf(reply);
        var random = new Random(23);
        var forged = new RawSegment { Source = live.Local.Address, SourcePort = port };
        for (var i = 0; i < 20; i++)
        {
            // Blind: sequence numbers guessed at random (out of window but for a one-in-thousands chance).
            tap.Send(forged with { Flags = RawSegment.Rst, Sequence = (uint)random.NextInt64(1L << 32) });
            tap.Send(forged with { Flags = RawSegment.Rst | RawSegment.Ack, Sequence = (uint)random.NextInt64(1L << 32), Acknowledgment = (uint)random.NextInt64(1L << 32) });
            tap.Send(forged with { Flags = RawSegment.Syn, Sequence = (uint)random.NextInt64(1L << 32), Options = RawSegment.Mss(1460) });
            tap.Send(forged with { Flags = RawSegment.Ack | RawSegment.Psh, Sequence = (uint)random.NextInt64(1L << 32), Acknowledgment = sndNxt, Payload = "GET /evil HTTP/1.1\r\n\r\n"u8.ToArray() });
        }

        for (var i = 0; i < 5; i++)
        {
            // In the window but not exact: RFC 5961 3.2 and 4.2 answer each with a challenge ACK, never a reset.
            tap.Send(forged with { Flags = RawSegment.Rst, Sequence = rcvNxt + 1 + (uint)i });
            tap.Send(forged with { Flags = RawSegment.Syn, Sequence = rcvNxt + 1 + (uint)i, Options = RawSegment.Mss(1460) });

            // An ACK of data never sent (RFC 5961 5.2): dropped, answered with an ACK.
            tap.Send(forged with { Flags = RawSegment.Ack, Sequence = rcvNxt, Acknowledgment = sndNxt + 1_000_000 });
        }

        await live.AssertAliveAsync();
        await live.AssertAliveAsync();
        await live.CloseAsync();
        var report = await serve.StopAsync();
        output.WriteLine(report.ToString());
        Assert.Equal(0, UserTcpServe.Counter(report, "resetsReceived"));
        Assert.True(UserTcpServe.Counter(report, "challengeAcksSent") + UserTcpServe.Counter(report, "challengeAcksLimited") >= 5, $"challenge ACKs in {report}");
        Assert.True(
            // RFC 5961 4.2: a blind SYN is counted under syn_ignored (and challenged) whatever its sequence number.
            UserTcpServe.Counter(report, "rst_ignored") + UserTcpServe.Counter(report, "out_of_window") + UserTcpServe.Counter(report, "duplicateSegments") + UserTcpServe.Counter(report, "syn_ignored") >= 80,
            $"the 80 blind segments counted in {report}");
        Assert.Equal(1, UserTcpServe.Counter(report, "passiveOpens"));
        Assert.Equal(0, UserTcpServe.Counter(report, "aborted"));
    }

    [Fact]
    public async Task SynFloodFromSpoofedSources_ServedByCookies_RealClientsStillConnect()
    {
        if (UserTcpInterop.Unavailable() is { } reason)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();
        await using var serve = await UserTcpServe.StartAsync(ns, "http");
        using var tap = TunTap.Open(ns);
        var residentBefore = serve.ResidentBytes();
        var random = new Random(5);
        const int Flood = 20_000;

        var flooding = Task.Run(() =>
        {
            for (var i = 0; i < Flood; i++)
            {
                var source = new IPAddress([10, 77, 0, (byte)random.Next(10, 250)]);
                tap.Send(new RawSegment { Source = source, SourcePort = (ushort)random.Next(1024, 65536), Flags = RawSegment.Syn, Sequence = (uint)random.NextInt64(1L << 32), Options = RawSegment.Mss(1460) });
                if (i % 1000 == 999)
                {
                    // About a second in all: the real clients below connect while the flood is on.
                    Thread.Sleep(50);
                }
            }
        });

        var served = 0;
        while (!flooding.IsCompleted || served < 10)
        {
            using var client = await KeepAliveHttp.OpenAsync(ns);
            await client.AssertAliveAsync();
            served++;
        }

        await flooding;
        var residentGrowth = serve.ResidentBytes() - residentBefore;
        var report = await serve.StopAsync();
        output.WriteLine($"{served} real clients served during the flood; RSS grew {residentGrowth / 1024} KiB; {report}");
        // The device's queue (txqueuelen 500) drops part of a burst written faster than the stack reads: thousands
        // still arrive, more than the SYN backlog holds.
        Assert.True(UserTcpServe.Counter(report, "packetsIn") >= 5_000, $"the flood reached the stack: {report}");
        Assert.True(UserTcpServe.Counter(report, "synCookiesSent") > 0, $"SYN cookies in {report}");

        // The real clients came in while the backlog was full of spoofed half-opens: their ACKs carried cookies.
        Assert.True(UserTcpServe.Counter(report, "synCookiesAccepted") > 0, $"cookie handshakes in {report}");
        Assert.True(UserTcpServe.Counter(report, "passiveOpens") >= served, $"the real clients' opens in {report}");
        Assert.True(residentGrowth < 64L << 20, $"serve grew {residentGrowth} bytes under a SYN flood");
    }

    [Theory]
    [InlineData(1, (byte)0)]
    [InlineData(65535, (byte)14)]
    [InlineData(65535, (byte)200)]
    public async Task HandshakeWithExtremeMssAndWindowScale_StackSendsSaneSegments(int mss, byte shift)
    {
        if (UserTcpInterop.Unavailable() is { } reason)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();
        await using var serve = await UserTcpServe.StartAsync(ns, "http");
        using var tap = TunTap.Open(ns);
        var (_, mtuText, _) = await ns.ExecAsync("cat", "/sys/class/net/ut0/mtu");
        var mtu = int.Parse(mtuText.Trim(), CultureInfo.InvariantCulture);
        var spoofed = Spoofed.GetAddressBytes();
        const uint Iss = 1_000_000;
        var peer = new RawSegment { Source = Spoofed, SourcePort = 45678, Window = 65535 };

        tap.Send(peer with { Flags = RawSegment.Syn, Sequence = Iss, Options = [.. RawSegment.Mss((ushort)mss), .. RawSegment.WindowScale(shift)] });
        var synAck = tap.Receive(spoofed, p => RawSegment.FlagsOf(p) == (RawSegment.Syn | RawSegment.Ack), TimeSpan.FromSeconds(5));
        Assert.NotNull(synAck);
        var irs = RawSegment.SequenceOf(synAck);
        var request = Encoding.ASCII.GetBytes("GET /bytes/20000 HTTP/1.1\r\nHost: t\r\n\r\n");
        tap.Send(peer with { Flags = RawSegment.Ack, Sequence = Iss + 1, Acknowledgment = irs + 1 });
        tap.Send(peer with { Flags = RawSegment.Ack | RawSegment.Psh, Sequence = Iss + 1, Acknowledgment = irs + 1, Payload = request });

        var data = tap.Receive(spoofed, p => RawSegment.PayloadLengthOf(p) > 0, TimeSpan.FromSeconds(5));
        Assert.NotNull(data);
        var payload = RawSegment.PayloadLengthOf(data);
        output.WriteLine($"MSS {mss}, shift {shift}: first data segment {payload} bytes (MTU {mtu})");
        Assert.InRange(payload, 1, mtu - 40);
        Assert.True(mss >= 536 || payload <= 536, $"{payload} bytes to a peer that asked for MSS {mss}");
        tap.Send(peer with { Flags = RawSegment.Rst, Sequence = Iss + 1 + (uint)request.Length });

        using var live = await KeepAliveHttp.OpenAsync(ns);
        await live.AssertAliveAsync();
        await live.CloseAsync();
        var report = await serve.StopAsync();
        output.WriteLine(report.ToString());
        Assert.Equal(2, UserTcpServe.Counter(report, "passiveOpens"));

        // The raw peer's connection ended with its RST, the live one with FINs: none left to abort.
        Assert.Equal(0, UserTcpServe.Counter(report, "aborted"));
    }

    private static RawSegment Syn(ushort port) => new() { Source = Spoofed, SourcePort = port, Flags = RawSegment.Syn, Sequence = 7, Options = RawSegment.Mss(1460) };
}
