using CsCheck;
using KcpKestrel.Core.Crypto;

namespace KcpKestrel.Core.Tests.Crypto;

public sealed class PacketCipherTamperTests
{
    private static readonly byte[] KeyA = PacketCipherFactory.DeriveKey("key A");
    private static readonly byte[] KeyB = PacketCipherFactory.DeriveKey("key B");

    public static IEnumerable<object[]> ProtectedModes()
        => PacketCipherFactory.Names.Where(n => n != "null").Select(n => new object[] { n });

    public static IEnumerable<object[]> AllModes() => PacketCipherFactory.Names.Select(n => new object[] { n });

    private static byte[] Payload(int length, int seed)
    {
        var payload = new byte[length];
        new Random(seed).NextBytes(payload);
        return payload;
    }

    private static byte[] SealCopy(PacketCipher cipher, byte[] payload)
    {
        var packet = new byte[cipher.Overhead + payload.Length];
        payload.CopyTo(packet, cipher.HeaderSize);
        var n = cipher.Seal(packet, payload.Length);
        Assert.Equal(packet.Length, n);
        return packet;
    }

    [Theory]
    [MemberData(nameof(ProtectedModes))]
    public void FlippedBit_Anywhere_IsDroppedOrLeavesPayloadIntact(string mode)
    {
        // kcp-go's CRC covers the payload, not the nonce: a flip that only lands in the
        // decrypted nonce is harmless and accepted (as kcp-go accepts it). Whatever is
        // accepted must carry exactly the sent payload; AEAD modes must drop every flip.
        using var sender = PacketCipherFactory.CreateFromDerivedKey(mode, KeyA);
        using var receiver = PacketCipherFactory.CreateFromDerivedKey(mode, KeyA);
        var payload = Payload(61, 1);
        var sealedPacket = SealCopy(sender, payload);
        var dropped = 0;
        for (var bit = 0; bit < sealedPacket.Length * 8; bit++)
        {
            var copy = (byte[])sealedPacket.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            var result = receiver.Open(copy, out var offset, out var length);
            if (result == CipherResult.Ok)
            {
                Assert.False(receiver.IsAuthenticated, $"{mode}: bit {bit} flipped yet authenticated");
                Assert.True(bit < KcpHeaderPacketCipher.NonceSize * 8, $"{mode}: bit {bit} outside the nonce accepted");
                Assert.Equal(payload, copy.AsSpan(offset, length).ToArray());
            }
            else
            {
                dropped++;
                Assert.Equal(receiver.IsAuthenticated ? CipherResult.AuthenticationFailed : CipherResult.ChecksumMismatch, result);
            }
        }

        Assert.Equal(dropped, receiver.Dropped);
        var payloadBits = (sealedPacket.Length - (receiver.IsAuthenticated ? 0 : KcpHeaderPacketCipher.NonceSize)) * 8;
        Assert.True(dropped >= payloadBits, $"{mode}: only {dropped} of {sealedPacket.Length * 8} flips dropped");
    }

    [Theory]
    [MemberData(nameof(ProtectedModes))]
    public void Truncated_IsDroppedAndCounted(string mode)
    {
        using var sender = PacketCipherFactory.CreateFromDerivedKey(mode, KeyA);
        using var receiver = PacketCipherFactory.CreateFromDerivedKey(mode, KeyA);
        var sealedPacket = SealCopy(sender, Payload(100, 2));
        for (var length = 0; length < sealedPacket.Length; length++)
        {
            var copy = sealedPacket.AsSpan(0, length).ToArray();
            var result = receiver.Open(copy, out _, out _);
            Assert.NotEqual(CipherResult.Ok, result);
            if (length < receiver.Overhead)
            {
                Assert.Equal(CipherResult.TooShort, result);
            }
        }

        Assert.Equal(sealedPacket.Length, receiver.Dropped);
        Assert.Equal(receiver.Overhead, receiver.GetDropCount(CipherResult.TooShort));
    }

    [Theory]
    [MemberData(nameof(ProtectedModes))]
    public void WrongKey_IsDroppedAndCounted(string mode)
    {
        using var sender = PacketCipherFactory.CreateFromDerivedKey(mode, KeyA);
        using var receiver = PacketCipherFactory.CreateFromDerivedKey(mode, KeyB);
        if (mode == "none")
        {
            // No key is involved: "none" only detects noise.
            Assert.Equal(CipherResult.Ok, receiver.Open(SealCopy(sender, Payload(50, 3)), out _, out _));
            return;
        }

        for (var i = 0; i < 50; i++)
        {
            var result = receiver.Open(SealCopy(sender, Payload(40 + i, i)), out _, out _);
            Assert.Equal(receiver.IsAuthenticated ? CipherResult.AuthenticationFailed : CipherResult.ChecksumMismatch, result);
        }

        Assert.Equal(50, receiver.Dropped);
        Assert.Equal(0, receiver.Opened);
    }

    [Theory]
    [MemberData(nameof(AllModes))]
    public void RandomGarbage_NeverThrows_AndNeverPassesAuthentication(string mode)
    {
        using var receiver = PacketCipherFactory.CreateFromDerivedKey(mode, KeyA);
        Gen.Byte.Array[0, 1600].Sample(
            garbage =>
            {
                var result = receiver.Open(garbage, out var offset, out var length);
                if (result == CipherResult.Ok)
                {
                    Assert.True(offset + length <= garbage.Length);
                    return !receiver.IsAuthenticated;
                }

                return offset == 0 && length == 0;
            },
            seed: "0N0XIzNsQ0O2",
            iter: 300,
            threads: 1); // one cipher instance: they are single-threaded by contract
    }

    [Theory]
    [MemberData(nameof(AllModes))]
    public void RoundTrip_EveryLength0To1500_Matches(string mode)
    {
        using var sender = PacketCipherFactory.CreateFromDerivedKey(mode, KeyA);
        using var receiver = PacketCipherFactory.CreateFromDerivedKey(mode, KeyA);
        var window = new ReplayWindow();
        var buffer = new byte[1500 + sender.Overhead];
        var random = new Random(42);
        for (var length = 0; length <= 1500; length++)
        {
            var payload = new byte[length];
            random.NextBytes(payload);
            payload.CopyTo(buffer, sender.HeaderSize);
            var n = sender.Seal(buffer, length);
            Assert.Equal(sender.Overhead + length, n);
            Assert.Equal(CipherResult.Ok, receiver.Open(buffer.AsSpan(0, n), window, out var offset, out var got));
            Assert.Equal(sender.HeaderSize, offset);
            Assert.True(payload.AsSpan().SequenceEqual(buffer.AsSpan(offset, got)), $"{mode} length {length}");
        }

        Assert.Equal(1501, receiver.Opened);
    }

    [Theory]
    [MemberData(nameof(AllModes))]
    public void RoundTrip_Property(string mode)
    {
        using var sender = PacketCipherFactory.CreateFromDerivedKey(mode, KeyA);
        using var receiver = PacketCipherFactory.CreateFromDerivedKey(mode, KeyA);
        Gen.Int[0, 1500].SelectMany(n => Gen.Byte.Array[n]).Sample(
            payload =>
            {
                var packet = new byte[sender.Overhead + payload.Length + 7];
                payload.CopyTo(packet, sender.HeaderSize);
                var n = sender.Seal(packet, payload.Length);
                return receiver.Open(packet.AsSpan(0, n), out var offset, out var length) == CipherResult.Ok
                    && payload.AsSpan().SequenceEqual(packet.AsSpan(offset, length));
            },
            seed: "4bn2XWGv3pC1",
            iter: 200,
            threads: 1); // one cipher instance: they are single-threaded by contract
    }

    [Theory]
    [MemberData(nameof(ProtectedModes))]
    public void SameClearPayload_SealsDifferently(string mode)
    {
        using var sender = PacketCipherFactory.CreateFromDerivedKey(mode, KeyA);
        var payload = Payload(64, 5);
        Assert.NotEqual(SealCopy(sender, payload), SealCopy(sender, payload));
    }
}
