using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using AesNi = System.Runtime.Intrinsics.X86.Aes;

namespace KcpKestrel.Core.Crypto;

/// <summary>
/// AES on AES-NI with kcp-go's CFB done in registers: no P/Invoke or per-packet setup, which
/// for 1400-byte datagrams costs more than the cipher itself. CFB encryption is a serial chain
/// (as in Go); decryption runs four blocks in flight because each keystream block depends only
/// on ciphertext already received.
/// </summary>
internal sealed class AesNiEngine : BlockEngine
{
    private readonly Vector128<byte>[] _roundKeys;
    private readonly int _rounds;
    private readonly Vector128<byte> _ivKeystream;

    public AesNiEngine(ReadOnlySpan<byte> key)
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("AES-NI is not available on this processor.");
        }

        var schedule = AesKeySchedule.Expand(key, out _rounds);
        _roundKeys = new Vector128<byte>[_rounds + 1];
        for (var r = 0; r <= _rounds; r++)
        {
            _roundKeys[r] = Vector128.Create(schedule.AsSpan(r * 16, 16));
        }

        CryptographicOperations.ZeroMemory(schedule);
        _ivKeystream = Encrypt(Vector128.Create(InitialVector), ref _roundKeys[0], _rounds);
    }

    public static bool IsSupported => AesNi.IsSupported;

    /// <summary>The encryption round keys (shared with <see cref="AesNiGcm"/>).</summary>
    internal Vector128<byte>[] RoundKeys => _roundKeys;

    /// <summary>10, 12 or 14.</summary>
    internal int Rounds => _rounds;

    public override int BlockSize => 16;

    public override void EncryptBlock(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var block = Encrypt(Vector128.Create(source[..16]), ref _roundKeys[0], _rounds);
        block.CopyTo(destination);
    }

    public override void EncryptBlocksInPlace(Span<byte> data)
    {
        ref var rk = ref MemoryMarshal.GetArrayDataReference(_roundKeys);
        ref var p = ref MemoryMarshal.GetReference(data);
        var n = (nuint)data.Length;
        nuint i = 0;
        for (; i + 64 <= n; i += 64)
        {
            var b0 = Vector128.LoadUnsafe(ref p, i);
            var b1 = Vector128.LoadUnsafe(ref p, i + 16);
            var b2 = Vector128.LoadUnsafe(ref p, i + 32);
            var b3 = Vector128.LoadUnsafe(ref p, i + 48);
            Encrypt4(ref b0, ref b1, ref b2, ref b3, ref rk, _rounds);
            b0.StoreUnsafe(ref p, i);
            b1.StoreUnsafe(ref p, i + 16);
            b2.StoreUnsafe(ref p, i + 32);
            b3.StoreUnsafe(ref p, i + 48);
        }

        for (; i + 16 <= n; i += 16)
        {
            Encrypt(Vector128.LoadUnsafe(ref p, i), ref rk, _rounds).StoreUnsafe(ref p, i);
        }
    }

    public override void CfbEncrypt(Span<byte> data)
    {
        ref var rk = ref MemoryMarshal.GetArrayDataReference(_roundKeys);
        ref var p = ref MemoryMarshal.GetReference(data);
        var n = (nuint)data.Length;
        var rounds = _rounds;
        var feedback = _ivKeystream;
        nuint i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var c = Vector128.LoadUnsafe(ref p, i) ^ feedback;
            c.StoreUnsafe(ref p, i);
            feedback = Encrypt(c, ref rk, rounds);
        }

        XorTail(data[(int)i..], feedback);
    }

    public override void CfbDecrypt(ReadOnlySpan<byte> previous, Span<byte> data)
    {
        ref var rk = ref MemoryMarshal.GetArrayDataReference(_roundKeys);
        ref var p = ref MemoryMarshal.GetReference(data);
        var n = (nuint)data.Length;
        var rounds = _rounds;
        var keystream = previous.IsEmpty ? _ivKeystream : Encrypt(Vector128.Create(previous[..16]), ref rk, rounds);
        nuint i = 0;
        for (; i + 64 <= n; i += 64)
        {
            var c0 = Vector128.LoadUnsafe(ref p, i);
            var c1 = Vector128.LoadUnsafe(ref p, i + 16);
            var c2 = Vector128.LoadUnsafe(ref p, i + 32);
            var c3 = Vector128.LoadUnsafe(ref p, i + 48);
            var k1 = c0;
            var k2 = c1;
            var k3 = c2;
            var k4 = c3;
            Encrypt4(ref k1, ref k2, ref k3, ref k4, ref rk, rounds);
            (c0 ^ keystream).StoreUnsafe(ref p, i);
            (c1 ^ k1).StoreUnsafe(ref p, i + 16);
            (c2 ^ k2).StoreUnsafe(ref p, i + 32);
            (c3 ^ k3).StoreUnsafe(ref p, i + 48);
            keystream = k4;
        }

        for (; i + 16 <= n; i += 16)
        {
            var c = Vector128.LoadUnsafe(ref p, i);
            var next = Encrypt(c, ref rk, rounds);
            (c ^ keystream).StoreUnsafe(ref p, i);
            keystream = next;
        }

        XorTail(data[(int)i..], keystream);
    }

    private static void XorTail(Span<byte> tail, Vector128<byte> keystream)
    {
        if (tail.IsEmpty)
        {
            return;
        }

        Span<byte> ks = stackalloc byte[16];
        keystream.CopyTo(ks);
        for (var j = 0; j < tail.Length; j++)
        {
            tail[j] ^= ks[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<byte> Encrypt(Vector128<byte> block, ref Vector128<byte> rk, int rounds)
    {
        block ^= rk;
        for (var r = 1; r < rounds; r++)
        {
            block = AesNi.Encrypt(block, Unsafe.Add(ref rk, r));
        }

        return AesNi.EncryptLast(block, Unsafe.Add(ref rk, rounds));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Encrypt4(
        ref Vector128<byte> b0, ref Vector128<byte> b1, ref Vector128<byte> b2, ref Vector128<byte> b3,
        ref Vector128<byte> rk, int rounds)
    {
        var k = rk;
        var x0 = b0 ^ k;
        var x1 = b1 ^ k;
        var x2 = b2 ^ k;
        var x3 = b3 ^ k;
        for (var r = 1; r < rounds; r++)
        {
            k = Unsafe.Add(ref rk, r);
            x0 = AesNi.Encrypt(x0, k);
            x1 = AesNi.Encrypt(x1, k);
            x2 = AesNi.Encrypt(x2, k);
            x3 = AesNi.Encrypt(x3, k);
        }

        k = Unsafe.Add(ref rk, rounds);
        b0 = AesNi.EncryptLast(x0, k);
        b1 = AesNi.EncryptLast(x1, k);
        b2 = AesNi.EncryptLast(x2, k);
        b3 = AesNi.EncryptLast(x3, k);
    }

    protected override void Dispose(bool disposing)
    {
        Array.Clear(_roundKeys);
        base.Dispose(disposing);
    }
}
