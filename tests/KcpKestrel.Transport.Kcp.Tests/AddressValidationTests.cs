using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using KcpKestrel.Core.Arq;
using KcpKestrel.Core.Crypto;
using KcpKestrel.Transport.Kcp.Connections;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Sessions;
using KcpKestrel.Transport.Kcp.Tests.InMemory;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>
/// Address validation in our AEAD modes (docs/address-validation.md): the token type on its own, a listening
/// socket driven datagram by datagram on a manual clock, and a real client over loopback.
/// </summary>
public sealed class AddressValidationTests(ITestOutputHelper output)
{
    private const uint Start = 50_000;
    private const string Key = "secret";

    private static readonly UdpAddressKey Source = UdpAddressKey.From(new IPEndPoint(IPAddress.Parse("10.1.0.1"), 10_000));

    // ---- AddressTokens ----

    [Fact]
    public void Token_VerifiesForItsSourceWithinItsLifetime_AndExpiresAfter()
    {
        var tokens = new AddressTokens(TimeSpan.FromSeconds(10));
        var token = new byte[AddressTokens.Size];
        tokens.Mint(Source, Start, token);

        Assert.Equal(AddressTokenResult.Valid, tokens.Verify(Source, token, Start));
        Assert.Equal(AddressTokenResult.Valid, tokens.Verify(Source, token, Start + 10_000));
        Assert.Equal(AddressTokenResult.Expired, tokens.Verify(Source, token, Start + 10_001));

        // A stamp from the future is nothing we minted.
        Assert.Equal(AddressTokenResult.Expired, tokens.Verify(Source, token, Start - 1));
    }

    [Fact]
    public void Token_IsBoundToAddressAndPort()
    {
        var tokens = new AddressTokens(TimeSpan.FromSeconds(10));
        var token = new byte[AddressTokens.Size];
        tokens.Mint(Source, Start, token);

        var otherPort = UdpAddressKey.From(new IPEndPoint(IPAddress.Parse("10.1.0.1"), 10_001));
        var otherAddress = UdpAddressKey.From(new IPEndPoint(IPAddress.Parse("10.1.0.2"), 10_000));
        var v6 = UdpAddressKey.From(new IPEndPoint(IPAddress.Parse("::ffff:10.1.0.1"), 10_000));
        Assert.Equal(AddressTokenResult.Invalid, tokens.Verify(otherPort, token, Start + 1));
        Assert.Equal(AddressTokenResult.Invalid, tokens.Verify(otherAddress, token, Start + 1));

        // The IPv4-mapped form of the same source is the same source (dual-stack sockets).
        Assert.Equal(AddressTokenResult.Valid, tokens.Verify(v6, token, Start + 1));
    }

    [Fact]
    public void Token_AnyTamperedByte_OrAnotherServersSecret_IsRefused()
    {
        var tokens = new AddressTokens(TimeSpan.FromSeconds(10));
        var token = new byte[AddressTokens.Size];
        tokens.Mint(Source, Start, token);
        for (var i = 0; i < token.Length; i++)
        {
            var tampered = (byte[])token.Clone();
            tampered[i] ^= 0x01;
            Assert.NotEqual(AddressTokenResult.Valid, tokens.Verify(Source, tampered, Start + 1));
        }

        Assert.Equal(AddressTokenResult.Invalid, new AddressTokens(TimeSpan.FromSeconds(10)).Verify(Source, token, Start + 1));
        Assert.Equal(AddressTokenResult.Invalid, tokens.Verify(Source, token.AsSpan(1), Start + 1));
        Assert.NotEqual(AddressTokenResult.Valid, tokens.Verify(Source, new byte[AddressTokens.Size], Start));
    }

    [Fact]
    public void Token_SurvivesOneRotationOfTheSecret_ButNoTokenOutlivesItsLifetime()
    {
        var tokens = new AddressTokens(TimeSpan.FromSeconds(10));
        var token = new byte[AddressTokens.Size];
        tokens.Mint(Source, Start, token);

        // Minted just before a rotation: the previous secret still verifies it after the rotation.
        var late = new byte[AddressTokens.Size];
        tokens.Mint(Source, Start + 9_999, late);
        Assert.Equal(AddressTokenResult.Valid, tokens.Verify(Source, late, Start + 10_500));
        Assert.Equal(1, tokens.Rotations);
        Assert.Equal(AddressTokenResult.Valid, tokens.Verify(Source, late, Start + 19_999));
        Assert.Equal(AddressTokenResult.Expired, tokens.Verify(Source, late, Start + 20_000));

        // A lifetime after the first rotation comes the second: the first secret is gone, the new one verifies.
        var fresh = new byte[AddressTokens.Size];
        tokens.Mint(Source, Start + 20_500, fresh);
        Assert.Equal(2, tokens.Rotations);
        Assert.Equal(AddressTokenResult.Valid, tokens.Verify(Source, fresh, Start + 20_501));
    }

    [Fact]
    public void Token_VerifyAllocatesNothing()
    {
        var tokens = new AddressTokens(TimeSpan.FromSeconds(10));
        var token = new byte[AddressTokens.Size];
        tokens.Mint(Source, Start, token);
        var forged = new byte[AddressTokens.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(forged, Start);
        for (var i = 0; i < 100; i++)
        {
            tokens.Verify(Source, token, Start + 1);
            tokens.Verify(Source, forged, Start + 1);
        }

        var valid = 0;
        var invalid = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            valid += tokens.Verify(Source, token, Start + 1) == AddressTokenResult.Valid ? 1 : 0;
            invalid += tokens.Verify(Source, forged, Start + 1) == AddressTokenResult.Invalid ? 1 : 0;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal((1_000, 1_000, 0L), (valid, invalid, allocated));
    }

    // ---- the listening socket ----

    [Theory]
    [InlineData("aes-256-gcm", false)]
    [InlineData("chacha20-poly1305", true)]
    public void ProbeWithoutAToken_OpensNothing_AndGetsOneRetryNoLargerThanItself(string crypt, bool fec)
    {
        var (server, loop, host, link) = Create(crypt, fec);
        using var client = Cipher(crypt);
        var probe = TokenProbe(client, conv: 7, token: default);

        server.OnDatagram(server.Channel, probe.AsSpan().ToArray(), Address(0), Start);

        Assert.Equal(0, server.SessionCount);
        Assert.Empty(host.Accepted);
        Assert.Equal(0, host.Reserved);
        Assert.Equal(1, loop.Counters.DroppedUnvalidated);
        Assert.Equal(1, loop.Counters.RetriesSent);
        var reply = Assert.Single(link.Sent).Datagram;
        Assert.True(reply.Length <= probe.Length, $"a {reply.Length}-byte answer to a {probe.Length}-byte datagram");

        // Only a key holder can read it: a RETRY for our conv, carrying a token for our address.
        Assert.Equal(CipherResult.Ok, client.Open(reply, out var offset, out var length));
        Assert.True(AddressValidation.TryRead(reply.AsSpan(offset, length), out var conv, out var cmd, out var token, out var rest));
        Assert.Equal((7u, AddressValidation.RetryCommand, 0), (conv, cmd, rest.Length));
        Assert.False(AddressValidation.IsEmptyToken(token));
    }

    [Fact]
    public void DataOrProbeWithoutAToken_OpensNothing_AndASmallOneGetsNoReply()
    {
        var (server, loop, host, link) = Create("aes-256-gcm");
        using var client = Cipher("aes-256-gcm");

        // An unpadded WASK (52 bytes) is smaller than a RETRY (72): no answer at all.
        server.OnDatagram(server.Channel, Sealed(client, 1, KcpCommand.WindowAsk, payload: 0), Address(0), Start);

        // A PUSH with room for a RETRY gets one.
        server.OnDatagram(server.Channel, Sealed(client, 2, KcpCommand.Push, payload: 100), Address(1), Start);

        Assert.Equal(0, server.SessionCount);
        Assert.Empty(host.Accepted);
        Assert.Equal(2, loop.Counters.DroppedUnvalidated);
        Assert.Equal(1, loop.Counters.RetriesSent);
        Assert.Single(link.Sent);
    }

    [Fact]
    public void EchoedToken_OpensAProvenSession()
    {
        var (server, loop, host, _) = Create("aes-256-gcm");
        using var client = Cipher("aes-256-gcm");
        var token = Retry(server, client, conv: 7, Address(0), Start);

        server.OnDatagram(server.Channel, TokenProbe(client, 7, token), Address(0), Start + 5);

        Assert.Equal(1, server.SessionCount);
        var connection = Assert.Single(host.Accepted);
        Assert.Equal(1, loop.Counters.SessionsValidated);
        Assert.Equal(0, loop.Counters.DroppedUnvalidated - 1);
        Assert.Equal(KcpCloseReason.None, connection.Features.Get<IKcpSessionFeature>()!.CloseReason);
    }

    [Fact]
    public void ExpiredToken_OpensNothing_AndGetsAFreshRetry()
    {
        var (server, loop, host, _) = Create("aes-256-gcm", configure: o => o.AddressTokenLifetime = TimeSpan.FromSeconds(2));
        using var client = Cipher("aes-256-gcm");
        var token = Retry(server, client, conv: 7, Address(0), Start);

        server.OnDatagram(server.Channel, TokenProbe(client, 7, token), Address(0), Start + 2_001);

        Assert.Equal(0, server.SessionCount);
        Assert.Empty(host.Accepted);
        Assert.Equal(2, loop.Counters.RetriesSent);
    }

    [Fact]
    public void CapturedValidDatagram_ReplayedFrom500OtherPorts_OpensNoSession_AndFromItsOwnPortIsAReplay()
    {
        var (server, loop, host, link) = Create("aes-256-gcm");
        using var client = Cipher("aes-256-gcm");
        var token = Retry(server, client, conv: 7, Address(0), Start);
        var captured = TokenProbe(client, 7, token);

        for (var port = 1; port <= 500; port++)
        {
            server.OnDatagram(server.Channel, (byte[])captured.Clone(), Address(port), Start + 1);
        }

        Assert.Equal(0, server.SessionCount);
        Assert.Empty(host.Accepted);
        Assert.Equal(0, host.Reserved);
        Assert.Equal(500, loop.Counters.DroppedUnvalidated - 1);
        Assert.All(link.Sent, s => Assert.True(s.Datagram.Length <= captured.Length));

        // The genuine datagram opens the session; the same bytes again are caught by its replay window.
        server.OnDatagram(server.Channel, (byte[])captured.Clone(), Address(0), Start + 2);
        Assert.Single(host.Accepted);
        server.OnDatagram(server.Channel, (byte[])captured.Clone(), Address(0), Start + 3);
        Assert.Single(host.Accepted);
        Assert.Equal(1, loop.Counters.DroppedReplay);
        Assert.Equal(0, loop.Counters.SessionsReplaced);
    }

    [Fact]
    public void RestartedClient_ReplacesItsSessionOnlyWithAValidToken()
    {
        var (server, loop, host, _) = Create("aes-256-gcm");
        using var oldClient = Cipher("aes-256-gcm");
        var token = Retry(server, oldClient, conv: 1, Address(0), Start);
        server.OnDatagram(server.Channel, TokenProbe(oldClient, 1, token), Address(0), Start + 1);
        Assert.Single(host.Accepted);

        // A new sender's new conversation without a token: refused (a RETRY at most), the session stays.
        using var newClient = Cipher("aes-256-gcm");
        server.OnDatagram(server.Channel, Sealed(newClient, 2, KcpCommand.Push, payload: 100), Address(0), Start + 10);
        Assert.Single(host.Accepted);
        Assert.Equal(0, loop.Counters.SessionsReplaced);

        // With its token it replaces the old one.
        var fresh = Retry(server, newClient, conv: 2, Address(0), Start + 20);
        server.OnDatagram(server.Channel, TokenProbe(newClient, 2, fresh), Address(0), Start + 21);
        Assert.Equal(2, host.Accepted.Count);
        Assert.Equal(1, loop.Counters.SessionsReplaced);
        Assert.Equal(KcpCloseReason.Replaced, host.Accepted[0].Features.Get<IKcpSessionFeature>()!.CloseReason);
    }

    [Theory]
    [InlineData("aes-128-gcm")]
    [InlineData("aes")]
    [InlineData("null")]
    public void KcpGoCompatibleModes_OpenSessionsAsBefore(string crypt)
    {
        var (server, loop, host, link) = Create(crypt);
        using var client = Cipher(crypt);
        server.OnDatagram(server.Channel, Sealed(client, 1, KcpCommand.Push, payload: 0), Address(0), Start);

        Assert.Single(host.Accepted);
        Assert.Equal(0, loop.Counters.DroppedUnvalidated);
        Assert.Equal(0, loop.Counters.RetriesSent);
        _ = link;
    }

    [Fact]
    public void ValidationOff_OurAeadModeOpensSessionsAsBefore()
    {
        var (server, loop, host, _) = Create("chacha20-poly1305", configure: o => o.AddressValidation = false);
        using var client = Cipher("chacha20-poly1305");
        server.OnDatagram(server.Channel, Sealed(client, 1, KcpCommand.WindowAsk, payload: 0), Address(0), Start);

        Assert.Single(host.Accepted);
        Assert.Equal(0, loop.Counters.RetriesSent);
    }

    [Fact]
    public void Retries_AreRateLimited()
    {
        var (server, loop, _, link) = Create("aes-256-gcm", configure: o => o.NewSessionsPerSecond = 3);
        using var client = Cipher("aes-256-gcm");
        for (var port = 0; port < 10; port++)
        {
            server.OnDatagram(server.Channel, TokenProbe(client, 1, default), Address(port), Start);
        }

        Assert.Equal(10, loop.Counters.DroppedUnvalidated);
        Assert.Equal(3, loop.Counters.RetriesSent);
        Assert.Equal(3, link.Sent.Count);
    }

    // ---- a real client over loopback ----

    [Theory]
    [InlineData("aes-256-gcm", 0, 0)]
    [InlineData("chacha20-poly1305", 10, 3)]
    public async Task RealClient_DialsThroughTheRetry_AndEchoes(string crypt, int dataShards, int parityShards)
    {
        await using var listener = await DirectListener.BindAsync(k => Configure(k, crypt, dataShards, parityShards, validate: true));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var server = EchoAllAsync(listener, cts.Token);
        await using var factory = KcpTestHost.Client(k => Configure(k, crypt, dataShards, parityShards, validate: true)).CreateFactory();

        var connection = await factory.ConnectAsync(listener.EndPoint, cts.Token);
        var (sent, received) = await StreamCheck.EchoAsync(connection, 64 << 10, seed: 3, TimeSpan.FromSeconds(20));
        Assert.Equal(sent, received);
        await connection.DisposeAsync();

        Assert.True(listener.Counters.RetriesSent >= 1);
        Assert.True(listener.Counters.SessionsValidated >= 1);
        Assert.Equal(0, listener.Counters.SessionsReplaced);
        await cts.CancelAsync();
        await server;
    }

    [Fact]
    public async Task DialTime_WithAndWithoutValidation()
    {
        const int Dials = 30;
        var figures = new Dictionary<bool, double>();
        foreach (var validate in new[] { false, true })
        {
            await using var listener = await DirectListener.BindAsync(k => Configure(k, "aes-256-gcm", 0, 0, validate));
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var server = EchoAllAsync(listener, cts.Token);
            await using var factory = KcpTestHost.Client(k => Configure(k, "aes-256-gcm", 0, 0, validate)).CreateFactory();
            var times = new List<double>();
            for (var i = 0; i < Dials + 3; i++)
            {
                var watch = Stopwatch.StartNew();
                var connection = await factory.ConnectAsync(listener.EndPoint, cts.Token);
                watch.Stop();
                if (i >= 3)
                {
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }

                await connection.DisposeAsync();
            }

            times.Sort();
            figures[validate] = times[times.Count / 2];
            output.WriteLine($"aes-256-gcm dial, AddressValidation={validate}: median {times[times.Count / 2]:F3} ms, min {times[0]:F3} ms, max {times[^1]:F3} ms over {Dials} dials (loopback)");
            Assert.Equal(validate ? Dials + 3 : 0, listener.Counters.RetriesSent);
            await cts.CancelAsync();
            await server;
        }

        // One more round trip on loopback: well under the 200 ms probe interval.
        Assert.True(figures[true] < 100, $"validated dials took {figures[true]:F1} ms");
    }

    private static void Configure(KcpOptions k, string crypt, int dataShards, int parityShards, bool validate)
    {
        k.Crypt = crypt;
        k.Key = Key;
        k.DataShards = dataShards;
        k.ParityShards = parityShards;
        k.IoLoopCount = 1;
        k.AddressValidation = validate;
    }

    /// <summary>Accepts and echoes every connection until cancelled.</summary>
    private static async Task EchoAllAsync(Listener.KcpConnectionListener listener, CancellationToken cancellationToken)
    {
        var echoes = new List<Task>();
        try
        {
            while (await listener.AcceptAsync(cancellationToken) is { } connection)
            {
                echoes.Add(Task.Run(async () =>
                {
                    try
                    {
                        await connection.Transport.Input.CopyToAsync(connection.Transport.Output, cancellationToken);
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or IOException or Microsoft.AspNetCore.Connections.ConnectionAbortedException)
                    {
                    }

                    await connection.DisposeAsync();
                }, CancellationToken.None));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(echoes);
    }

    // ---- helpers ----

    private static PacketCipher Cipher(string crypt) => KcpCrypt.Create(new KcpOptions { Crypt = crypt, Key = Key });

    /// <summary>Sends a token-less probe from <paramref name="sockaddr"/> and returns the token of the server's RETRY.</summary>
    private static byte[] Retry(KcpServerSocket server, PacketCipher client, uint conv, byte[] sockaddr, uint now)
    {
        var link = ((InMemoryChannel)server.Channel).Link;
        var before = link.Sent.Count;
        server.OnDatagram(server.Channel, TokenProbe(client, conv, default), sockaddr, now);
        Assert.Equal(before + 1, link.Sent.Count);
        var reply = link.Sent[^1].Datagram;
        Assert.Equal(CipherResult.Ok, client.Open(reply, out var offset, out var length));
        Assert.True(AddressValidation.TryRead(reply.AsSpan(offset, length), out _, out _, out var token, out _));
        return token.ToArray();
    }

    /// <summary>Our client's dial probe: TOKEN control segment (token or zeros) and a WASK, sealed.</summary>
    private static byte[] TokenProbe(PacketCipher cipher, uint conv, ReadOnlySpan<byte> token)
    {
        var packet = new byte[cipher.Overhead + AddressValidation.TokenProbeSize];
        var body = packet.AsSpan(cipher.HeaderSize);
        AddressValidation.WriteHeader(body, conv, AddressValidation.TokenCommand, 128, Start, token);
        new SegmentHeader(conv, KcpCommand.WindowAsk, 0, 128, Start, 0, 0, 0).Write(body[AddressValidation.RetrySize..]);
        var length = cipher.Seal(packet, AddressValidation.TokenProbeSize);
        return packet[..length];
    }

    private static byte[] Sealed(PacketCipher cipher, uint conv, KcpCommand cmd, int payload)
    {
        var packet = new byte[cipher.Overhead + SegmentHeader.Size + payload];
        new SegmentHeader(conv, cmd, 0, 128, Start, 0, 0, (uint)payload).Write(packet.AsSpan(cipher.HeaderSize));
        var length = cipher.Seal(packet, SegmentHeader.Size + payload);
        return packet[..length];
    }

    private static (KcpServerSocket Server, ManualLoop Loop, FakeHost Host, InMemoryLink Link) Create(string crypt, bool fec = false, Action<KcpOptions>? configure = null)
    {
        var options = new KcpOptions
        {
            Crypt = crypt, Key = Key, DataShards = fec ? 10 : 0, ParityShards = fec ? 3 : 0, IoLoopCount = 1, NewSessionsPerSecond = 0,
        };
        configure?.Invoke(options);
        var loop = new ManualLoop(Start);
        var link = new InMemoryLink(seed: 1) { Now = Start };
        var host = new FakeHost();
        var channel = link.Open(new IPEndPoint(IPAddress.Loopback, 4000), receiver: null!);
        var server = new KcpServerSocket(loop, channel, host, options);
        channel.Receiver = server;
        return (server, loop, host, link);
    }

    private static byte[] Address(int client) => InMemoryLink.Sockaddr(new IPEndPoint(IPAddress.Parse("10.1.0.1"), 10_000 + client));

    private sealed class FakeHost : IKcpListenerHost
    {
        public int Reserved { get; private set; }

        public List<KcpConnection> Accepted { get; } = [];

        public bool IsAccepting => true;

        public bool HasAcceptRoom => true;

        public EndPoint LocalEndPoint { get; } = new IPEndPoint(IPAddress.Loopback, 4000);

        public MemoryPool<byte> MemoryPool => MemoryPool<byte>.Shared;

        public MigrationDirectory Migrations { get; } = new();

        public bool TryReserveSession()
        {
            Reserved++;
            return true;
        }

        public void ReleaseSession() => Reserved--;

        public bool TryEnqueueAccept(KcpConnection connection)
        {
            Accepted.Add(connection);
            return true;
        }
    }
}
