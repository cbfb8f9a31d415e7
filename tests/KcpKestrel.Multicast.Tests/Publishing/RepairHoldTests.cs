using KcpKestrel.Multicast.Publishing;
using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Tests.Publishing;

/// <summary>Repair-aware eviction: the history ring does not overwrite a packet subscribers are repairing.</summary>
public sealed class RepairHoldTests
{
    private const int Ring = 16;

    private readonly RecordingSink _sink = new();

    [Fact]
    public void Offer_OverAPacketNakedWithinTheHold_IsRefusedUntilTheHoldEnds()
    {
        var publisher = FullRing(new MulticastOptions { HistoryPackets = Ring });

        // NAKed 1 ms after it was sent: held for 2 x (the 5 ms retry interval + the 1 ms NAK lag).
        publisher.OnDatagram(Nak(first: 1), now: 1000);
        Assert.Equal(1, publisher.Counters.Retransmits);

        Assert.False(publisher.TryOffer([1], topic: 1, flush: true, now: 12_999));
        Assert.Equal(1, publisher.Counters.RepairWaits);
        Assert.Equal(13_000, publisher.RepairHeldUntil);
        Assert.Equal(1ul, publisher.OldestSequence);

        Assert.True(publisher.TryOffer([1], topic: 1, flush: true, now: 13_000));
        Assert.Equal(2ul, publisher.OldestSequence);
    }

    [Fact]
    public void Offer_OverAPacketNeverNaked_WaitsTwiceTheNakLagAndRetryOnly()
    {
        var publisher = FullRing(new MulticastOptions { HistoryPackets = Ring });

        // Packet 5 NAKed 1 ms after its send: a subscriber that late may not have read packet 1 yet, and
        // would NAK it again 5 ms later if that NAK were lost: 2 x (1 + 5) ms from packet 1's send.
        publisher.OnDatagram(Nak(first: 5), now: 1000);
        Assert.False(publisher.TryOffer([1], topic: 1, flush: true, now: 11_999));
        Assert.True(publisher.TryOffer([1], topic: 1, flush: true, now: 12_000));
    }

    [Fact]
    public void Offer_WithoutNaks_IsNeverHeld()
    {
        var publisher = FullRing(new MulticastOptions { HistoryPackets = Ring });
        for (var i = 0; i < 3 * Ring; i++)
        {
            Assert.True(publisher.TryOffer([1], topic: 1, flush: true, now: 1));
        }

        Assert.Equal(0, publisher.Counters.RepairWaits);
    }

    [Fact]
    public void Nak_ForPacketsGone_KeepsPacketsTwiceTheRingAgeAndRetry()
    {
        var publisher = FullRing(new MulticastOptions { HistoryPackets = Ring });
        for (var i = 0; i < Ring; i++)
        {
            Assert.True(publisher.TryOffer([1], topic: 1, flush: true, now: 10_000));
        }

        // Packets 1-16 left the ring; a subscriber NAKs one at 15 ms: it lags at least the oldest held
        // packet's age (5 ms), so packets are now kept 2 x (5 + 5) ms from their send.
        publisher.OnDatagram(Nak(first: 3), now: 15_000);
        Assert.Equal(1, publisher.Counters.NaksGone);
        Assert.False(publisher.TryOffer([1], topic: 1, flush: true, now: 29_999));
        Assert.True(publisher.TryOffer([1], topic: 1, flush: true, now: 30_000));
    }

    [Fact]
    public void Offer_WithRepairHoldZero_OverwritesTheNakedPacket()
    {
        var publisher = FullRing(new MulticastOptions { HistoryPackets = Ring, RepairHold = TimeSpan.Zero });
        publisher.OnDatagram(Nak(first: 1), now: 1000);

        Assert.True(publisher.TryOffer([1], topic: 1, flush: true, now: 1001));
        publisher.OnDatagram(Nak(first: 1), now: 10_000);
        Assert.Equal(1, publisher.Counters.NaksGone);
    }

    [Fact]
    public void Nak_RepeatedAfterEachRetryInterval_KeepsThePacketHeldUpToRepairHold()
    {
        var publisher = FullRing(new MulticastOptions { HistoryPackets = Ring, RepairHold = TimeSpan.FromMilliseconds(200) });

        // A subscriber whose resends keep getting lost: it NAKs again every 5 ms, then less often.
        for (var now = 1000L; now < 300_000; now += 5000)
        {
            publisher.OnDatagram(Nak(first: 1), now);
            Assert.Equal(now < 200_000, !publisher.TryOffer([1], topic: 1, flush: true, now));
            if (now >= 200_000)
            {
                return;
            }
        }

        Assert.Fail("never released");
    }

    [Fact]
    public void NakStorm_ForEveryHeldPacket_SlowsThePublisherToNoLessThanOneRingPerRepairHold()
    {
        // The bound of the hold alone: the congestion response would slow the publisher further (a NAK
        // storm looks like congestion), see SendPacerTests.
        var options = new MulticastOptions { HistoryPackets = Ring, NakSuppressWindow = TimeSpan.Zero, RepairHold = TimeSpan.FromMilliseconds(200), CongestionControl = false };
        var publisher = new MulticastPublisher(options, _sink);
        const long Second = 1_000_000;
        for (var now = 0L; now < Second; now += 100)
        {
            // A hostile node NAKs everything the publisher still holds, every 100 µs, for a second.
            var oldest = publisher.OldestSequence;
            if (publisher.LatestSequence >= oldest)
            {
                publisher.OnDatagram(Nak(first: oldest, count: (uint)(publisher.LatestSequence - oldest + 1)), now);
            }

            publisher.TryOffer([1], topic: 1, flush: true, now);
        }

        // The ring holds Ring - 1 sent packets, and each one is evicted at the latest RepairHold (200 ms) after its send.
        Assert.True(publisher.Counters.RepairWaits > 0);
        Assert.True(publisher.Counters.Packets >= 5 * (Ring - 1), $"{publisher.Counters.Packets} packets");
    }

    private static byte[] Nak(ulong first, uint count = 1)
    {
        var datagram = new byte[ControlPackets.MaxSize];
        var length = ControlPackets.WriteNak(datagram, source: 2, publisher: 1, stream: 1, first, count);
        return datagram[..length];
    }

    /// <summary>A publisher that sent packets 1 to <see cref="Ring"/> at time 0: a full ring, the next packet takes packet 1's slot.</summary>
    private MulticastPublisher FullRing(MulticastOptions options)
    {
        var publisher = new MulticastPublisher(options, _sink);
        for (var i = 0; i < Ring; i++)
        {
            Assert.True(publisher.TryOffer([1], topic: 1, flush: true, now: 0));
        }

        Assert.Equal((ulong)Ring, publisher.LatestSequence);
        return publisher;
    }
}
