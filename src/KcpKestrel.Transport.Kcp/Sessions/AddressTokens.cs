using System.Buffers.Binary;
using System.Security.Cryptography;
using KcpKestrel.Transport.Kcp.Io.Datagrams;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// Stateless address-validation tokens (DTLS's HelloVerifyRequest cookie, QUIC's Retry token): a listener
/// hands one to a source it has not heard from and opens a session only for a datagram that echoes it.
/// A token is <c>timestamp u32 LE | HMAC-SHA256(secret, address[16] | port u16 BE | timestamp u32 LE)[0..16)</c>:
/// the timestamp is the listener loop's millisecond clock, the address is the IPv4-mapped IPv6 form
/// (<see cref="UdpAddressKey"/>). The secret is random (<see cref="RandomNumberGenerator"/>) and rotates
/// every lifetime; a token verifies under the current or the previous secret and only while younger than
/// the lifetime, so no secret outlives two lifetimes and no token one. The clock is passed in (the loop's,
/// wrapping ms), so the type is pure and deterministic under test. Verification allocates nothing and
/// compares in constant time. One instance per I/O loop: not thread-safe.
/// </summary>
internal sealed class AddressTokens
{
    /// <summary>Bytes of the timestamp.</summary>
    public const int TimestampSize = 4;

    /// <summary>Bytes of the truncated MAC.</summary>
    public const int MacSize = 16;

    /// <summary>Bytes of a whole token.</summary>
    public const int Size = TimestampSize + MacSize;

    private const int SecretSize = 32;
    private const int InputSize = 16 + 2 + TimestampSize;

    private readonly byte[] _current = new byte[SecretSize];
    private readonly byte[] _previous = new byte[SecretSize];
    private readonly uint _lifetimeMs;
    private uint _rotatedAt;
    private bool _started;

    /// <param name="lifetime">How long a token is accepted after it was minted; also the secret's rotation period.</param>
    public AddressTokens(TimeSpan lifetime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lifetime, TimeSpan.FromMilliseconds(1));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(lifetime, TimeSpan.FromDays(1));
        _lifetimeMs = (uint)lifetime.TotalMilliseconds;
        RandomNumberGenerator.Fill(_current);
        RandomNumberGenerator.Fill(_previous);
    }

    /// <summary>Secrets generated so far (tests).</summary>
    internal int Rotations { get; private set; }

    /// <summary>Writes a token for <paramref name="source"/> at <paramref name="now"/> (ms) into <paramref name="token"/> (<see cref="Size"/> bytes).</summary>
    public void Mint(in UdpAddressKey source, uint now, Span<byte> token)
    {
        Rotate(now);
        BinaryPrimitives.WriteUInt32LittleEndian(token, now);
        ComputeMac(_current, source, now, token.Slice(TimestampSize, MacSize));
    }

    /// <summary>Whether <paramref name="token"/> was minted by this instance for <paramref name="source"/> less than a lifetime before <paramref name="now"/>.</summary>
    public AddressTokenResult Verify(in UdpAddressKey source, ReadOnlySpan<byte> token, uint now)
    {
        if (token.Length != Size)
        {
            return AddressTokenResult.Invalid;
        }

        Rotate(now);
        var stamp = BinaryPrimitives.ReadUInt32LittleEndian(token);
        var age = now - stamp;
        if (age > _lifetimeMs)
        {
            // Also a stamp from the future (a huge unsigned age): nothing we minted.
            return AddressTokenResult.Expired;
        }

        Span<byte> mac = stackalloc byte[MacSize];
        var presented = token.Slice(TimestampSize, MacSize);
        ComputeMac(_current, source, stamp, mac);
        var valid = CryptographicOperations.FixedTimeEquals(mac, presented);
        ComputeMac(_previous, source, stamp, mac);
        valid |= CryptographicOperations.FixedTimeEquals(mac, presented);
        return valid ? AddressTokenResult.Valid : AddressTokenResult.Invalid;
    }

    /// <summary>A new secret once a lifetime has passed since the last; the last one stays valid one more period.</summary>
    private void Rotate(uint now)
    {
        if (!_started)
        {
            _started = true;
            _rotatedAt = now;
            return;
        }

        var since = now - _rotatedAt;
        if (since < _lifetimeMs)
        {
            return;
        }

        if (since < 2 * (ulong)_lifetimeMs)
        {
            _current.CopyTo(_previous.AsSpan());
        }
        else
        {
            // Idle for two periods or more: the last secret has expired too.
            RandomNumberGenerator.Fill(_previous);
        }

        RandomNumberGenerator.Fill(_current);
        _rotatedAt = now;
        Rotations++;
    }

    private static void ComputeMac(byte[] secret, in UdpAddressKey source, uint stamp, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[InputSize];
        BinaryPrimitives.WriteUInt64BigEndian(input, source.High);
        BinaryPrimitives.WriteUInt64BigEndian(input[8..], source.Low);
        BinaryPrimitives.WriteUInt16BigEndian(input[16..], source.Port);
        BinaryPrimitives.WriteUInt32LittleEndian(input[18..], stamp);
        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.TryHashData(secret, input, hash, out _);
        hash[..MacSize].CopyTo(destination);
    }
}

/// <summary>What <see cref="AddressTokens.Verify"/> found.</summary>
internal enum AddressTokenResult
{
    /// <summary>Minted by us for this address and port, within its lifetime.</summary>
    Valid,

    /// <summary>Older than the lifetime (or stamped in the future).</summary>
    Expired,

    /// <summary>Not ours, tampered with, or minted for another address or port.</summary>
    Invalid,
}
