using KcpKestrel.Multicast.Tests.Harness;
using KcpKestrel.Tests.Shared;

namespace KcpKestrel.Multicast.Tests.Io;

/// <summary>Real sockets with the packet cipher and FEC: a loopback group, one publisher, one subscriber.</summary>
public sealed class SecuredTransportTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Messages = 3000;

    [Theory]
    [InlineData("aes-128-gcm", 10, 3, 0.05)]
    [InlineData("chacha20-poly1305", 0, 0, 0.05)]
    [InlineData("none", 10, 3, 0.05)]
    public async Task CipherAndFec_FivePercentDropped_EveryMessageArrivesOnceInOrder(string crypt, int dataShards, int parityShards, double dropRate)
    {
        void Secure(MulticastOptions o) => (o.Crypt, o.Key, o.DataShards, o.ParityShards) = (crypt, crypt == "none" ? null : "loopback key", dataShards, parityShards);
        var publisherOptions = LoopbackGroup.V4(node: 1, Secure);
        var receiver = new CheckingReceiver();
        using var subscriber = new MulticastTransport(
            LoopbackGroup.Member(publisherOptions, 10, o => { Secure(o); (o.DiagnosticDropRate, o.DiagnosticDropSeed) = (dropRate, 3); }), receiver, 1);
        using var publisher = new MulticastTransport(publisherOptions);
        var message = new byte[8000];
        for (var i = 0; i < Messages; i++)
        {
            var length = SequenceMessages.Write(message, i, i % 97 == 0 ? 2000 + i : 70);
            publisher.Offer(message.AsSpan(0, length), topic: 1, flush: i % 10 == 0);
            if (i % 200 == 0)
            {
                await Task.Delay(1);
            }
        }

        await TestWaits.WaitUntilAsync(() => receiver.Next >= Messages, $"all messages ({receiver.Next} of {Messages})");
        Assert.Equal((Messages, 0, 0, 0, 0L), (receiver.InOrder, receiver.Duplicates, receiver.OutOfOrder, receiver.Corrupt, receiver.Unrecoverable));
        var codec = subscriber.CodecCounters!;
        output.WriteLine(
            $"{crypt} {dataShards}/{parityShards}: {subscriber.DiagnosticDropped} dropped on purpose, {codec.FecRecovered} rebuilt by FEC, "
            + $"{subscriber.SubscriberCounters!.NaksSent} NAKs, {codec.ForgedDropped} forged, {codec.ReplaysDropped} replays");
        Assert.Equal(0, codec.ForgedDropped + codec.ReplaysDropped);
        Assert.True(subscriber.DiagnosticDropped > 0);
        if (dataShards > 0)
        {
            Assert.True(codec.FecRecovered > 0);
        }
    }

    [Fact]
    public async Task SubscriberWithAnotherKey_GetsNothing_CountsForgeries()
    {
        var publisherOptions = LoopbackGroup.V4(node: 1, o => (o.Crypt, o.Key) = ("aes-256-gcm", "right"));
        var receiver = new CheckingReceiver();
        using var subscriber = new MulticastTransport(LoopbackGroup.Member(publisherOptions, 10, o => (o.Crypt, o.Key) = ("aes-256-gcm", "wrong")), receiver, 1);
        using var publisher = new MulticastTransport(publisherOptions);
        var message = new byte[70];
        for (var i = 0; i < 10; i++)
        {
            publisher.Offer(message.AsSpan(0, SequenceMessages.Write(message, i, 70)), topic: 1, flush: true);
        }

        await TestWaits.WaitUntilAsync(() => subscriber.CodecCounters!.ForgedDropped >= 10, "ten forgeries counted");
        Assert.Equal(0, receiver.Next);
    }

    [Fact]
    public async Task CapturedDatagrams_ReplayedFromNewSourcePorts_AreDroppedAsReplaysAndDeliverNothing()
    {
        var publisherOptions = LoopbackGroup.V4(node: 1, o => (o.Crypt, o.Key) = ("aes-256-gcm", "replay key"));
        Assert.True(KcpKestrel.Multicast.Io.GroupAddress.TryParse(publisherOptions.Group, out var group));
        var receiver = new CheckingReceiver();
        using var subscriber = new MulticastTransport(LoopbackGroup.Member(publisherOptions, 10, o => (o.Crypt, o.Key) = ("aes-256-gcm", "replay key")), receiver, 1);

        // An eavesdropper on the group records every sealed datagram.
        using var sniffer = KcpKestrel.Multicast.Io.MulticastSocket.Open(group, publisherOptions.Interface, 1 << 20);
        sniffer.ReceiveTimeout = 2000;
        using (var publisher = new MulticastTransport(publisherOptions))
        {
            var message = new byte[70];
            for (var i = 0; i < 10; i++)
            {
                publisher.Offer(message.AsSpan(0, SequenceMessages.Write(message, i, 70)), topic: 1, flush: true);
            }

            await TestWaits.WaitUntilAsync(() => receiver.Next >= 10, "the ten messages");
        }

        var captured = new List<byte[]>();
        var buffer = new byte[2048];
        while (captured.Count < 10)
        {
            var length = sniffer.Receive(buffer);
            captured.Add(buffer.AsSpan(0, length).ToArray());
        }

        // Each captured datagram sent again from 20 fresh sockets, each with a new source port.
        var replaysBefore = subscriber.CodecCounters!.ReplaysDropped;
        for (var port = 0; port < 20; port++)
        {
            using var attacker = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
            attacker.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            attacker.SetSocketOption(System.Net.Sockets.SocketOptionLevel.IP, System.Net.Sockets.SocketOptionName.MulticastInterface, System.Net.IPAddress.Loopback.GetAddressBytes());
            foreach (var datagram in captured)
            {
                attacker.SendTo(datagram, group);
            }
        }

        var sent = 20L * captured.Count;
        await TestWaits.WaitUntilAsync(
            () => subscriber.CodecCounters!.ReplaysDropped - replaysBefore + subscriber.CodecCounters!.ForgedDropped >= sent,
            $"{sent} replays counted ({subscriber.CodecCounters!.ReplaysDropped - replaysBefore} so far)");
        Assert.Equal(0, subscriber.CodecCounters!.ForgedDropped);
        Assert.Equal((10, 0, 0), (receiver.InOrder, receiver.Duplicates, receiver.OutOfOrder));
    }
}
